from __future__ import annotations

import hashlib
import hmac

import pytest

from nyxmon.notify.signature import sign, verify_signature

BODY = b'{"key":"web.home:1:down:1@ops","kind":"down"}'
NOW = 1_732_388_760


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body_in_hex() -> None:
    expected = hmac.new(b"s3cret", f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign("s3cret", NOW, BODY) == f"sha256={expected}"


def test_a_correct_signature_verifies() -> None:
    signature = sign("s3cret", NOW, BODY)
    assert verify_signature("s3cret", BODY, str(NOW), signature, now=NOW + 10)


@pytest.mark.parametrize(
    ("secret", "body", "timestamp", "signature"),
    [
        pytest.param("other", BODY, str(NOW), None, id="wrong-secret"),
        pytest.param("s3cret", BODY + b" ", str(NOW), None, id="body-changed-by-one-byte"),
        pytest.param("s3cret", BODY, str(NOW + 1), None, id="timestamp-changed"),
        pytest.param("s3cret", BODY, None, None, id="no-timestamp"),
        pytest.param("s3cret", BODY, "yesterday", None, id="timestamp-not-a-number"),
        pytest.param("s3cret", BODY, str(NOW), "", id="no-signature"),
        pytest.param("s3cret", BODY, str(NOW), "md5=abc", id="other-scheme"),
    ],
)
def test_anything_else_does_not_verify(
    secret: str, body: bytes, timestamp: str | None, signature: str | None
) -> None:
    signed = sign("s3cret", NOW, BODY) if signature is None else signature
    assert not verify_signature(secret, body, timestamp, signed, now=NOW)


def test_an_old_or_future_timestamp_is_refused_as_a_replay() -> None:
    signature = sign("s3cret", NOW, BODY)
    assert verify_signature("s3cret", BODY, str(NOW), signature, now=NOW + 300)
    assert not verify_signature("s3cret", BODY, str(NOW), signature, now=NOW + 301)
    assert not verify_signature("s3cret", BODY, str(NOW), signature, now=NOW - 301)
    assert verify_signature("s3cret", BODY, str(NOW), signature, now=NOW + 3000, tolerance=3600)
