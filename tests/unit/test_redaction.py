"""What counts as a secret in a URL or in params, and that redaction removes all of it."""

from __future__ import annotations

import pytest

from nyxmon.domain.redaction import Redactor, mask_url, secrets_in_params, secrets_in_url


@pytest.mark.parametrize(
    ("url", "secret", "kept"),
    [
        pytest.param("tgram://123456:ABCDEF/987", "123456:ABCDEF", "tgram", id="apprise-host"),
        pytest.param("slack://TokenA/TokenB/TokenC/#chan", "TokenB", "slack", id="apprise-path"),
        pytest.param("https://u:pw1234@example.com/x", "pw1234", "example.com", id="userinfo"),
        pytest.param(
            "https://example.com/x?apikey=KEY98765", "KEY98765", "example.com", id="query"
        ),
        pytest.param(
            "https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF1/abcDEF123ghiJKL456mnoPQR",
            "abcDEF123ghiJKL456mnoPQR",
            "hooks.slack.com",
            id="token-like-segment",
        ),
    ],
)
def test_secret_parts_of_a_url_are_found_and_the_url_is_masked(
    url: str, secret: str, kept: str
) -> None:
    assert secret in secrets_in_url(url)
    shown = mask_url(url)
    assert secret not in shown
    assert shown.startswith(kept) or kept in shown


def test_plain_parts_are_not_secrets() -> None:
    found = secrets_in_url("https://example.com/health/live")
    assert "example.com" not in found
    assert "health" not in found


def test_params_yield_passwords_tokens_auth_headers_and_url_credentials() -> None:
    found = secrets_in_params(
        {
            "url": "https://bob:hunter22@db.example/x",
            "basic_auth": {"username": "bob", "password": "s3cretpw"},
            "bearer_token": "tok_abcdef",
            "headers": {"Authorization": "Bearer abc123xyz", "Accept": "text/html"},
            "timeout": 5,
        }
    )
    assert {"hunter22", "s3cretpw", "tok_abcdef", "abc123xyz"} <= found
    assert "text/html" not in found


def test_the_redactor_removes_every_registered_secret_longest_first() -> None:
    redactor = Redactor()
    assert redactor.redact("nothing yet") == "nothing yet"
    redactor.register(["abcd", "abcd:efgh", "xy"])  # "xy" is too short to register
    text = "GET /botabcd:efgh/send failed for abcd (xy)"
    assert redactor.redact(text) == "GET /bot***/send failed for *** (xy)"
    assert len(redactor) == 2


def test_a_websocket_urls_host_is_not_a_secret_but_its_credentials_are() -> None:
    found = secrets_in_params({"url": "wss://bob:hunter22@feed.example:8443/live?key=k3yk3y"})
    assert {"hunter22", "k3yk3y"} <= found
    assert not {"feed.example", "feed.example:8443", "live"} & found
    assert mask_url("ws://127.0.0.1:9000/ws?token=abc") == "ws://127.0.0.1:9000/ws?***"
