"""Write-only check secrets: each type declares them, masks hide them, masks restore them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nyxmon.checktypes import CHECK_TYPES
from nyxmon.checktypes.secrets import (
    MASK,
    MaskedSecretError,
    mask_check_params,
    restore_check_params,
    secret_fields,
)

_SOUNDS_SECRET = re.compile(r"passw|token|secret|api_?key|credential", re.IGNORECASE)
# Each secret starts with a digit and is 6+ characters, so it can never be a word of the
# masked structure itself ("head" in "headers" is not a leak).
_PART = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=5, max_size=12).map(
    lambda text: "7" + text
)


@pytest.mark.parametrize("type_name", sorted(CHECK_TYPES))
def test_every_field_that_sounds_secret_is_declared_secret(type_name: str) -> None:
    """A new check type with a ``password`` it forgot to mark fails here."""
    declared = {field.name for field in secret_fields(CHECK_TYPES[type_name].params)}

    def walk(model: Any, prefix: str = "") -> None:
        for name, info in model.model_fields.items():
            path = prefix + name
            nested = [
                arg
                for arg in (info.annotation, *getattr(info.annotation, "__args__", ()))
                if isinstance(arg, type) and hasattr(arg, "model_fields")
            ]
            if nested:
                walk(nested[0], path + ".")
            elif _SOUNDS_SECRET.search(name):
                assert path in declared, f"{type_name}: {path} is not marked secret()"

    walk(CHECK_TYPES[type_name].params)


@given(user=_PART, password=_PART, key=_PART, token=_PART)
def test_a_masked_http_check_shows_no_secret_and_restores_to_the_original(
    user: str, password: str, key: str, token: str
) -> None:
    params = {
        "url": f"https://{user}:{password}@example.com:8443/p/a?apikey={key}&flag&apikey={token}",
        "headers": {"X-Api-Key": key, "Authorization": f"Bearer {token}", "Accept": "a/b"},
        "basic_auth": {"username": "who", "password": password},
        "bearer_token": None,
    }
    masked = mask_check_params("http", params)
    text = repr(masked)
    for secret in (user, password, key, token):
        assert secret not in text.replace("example.com", "")
    assert masked["headers"]["Accept"] == "a/b"
    assert restore_check_params("http", masked, params) == params


def test_a_changed_query_value_replaces_and_the_masked_ones_stay() -> None:
    stored = {"url": "http://h/x?a=one1&b=two2"}
    given = {"url": f"http://h/x?a={MASK}&b=three3"}
    assert restore_check_params("http", given, stored) == {"url": "http://h/x?a=one1&b=three3"}


@pytest.mark.parametrize(
    ("given", "stored", "field"),
    [
        pytest.param({"bearer_token": MASK}, {}, "bearer_token", id="nothing-stored"),
        pytest.param(
            {"url": "http://h/", "headers": {"X-Api-Key": MASK}},
            {"url": "http://h/", "headers": {"Accept": "x"}},
            "headers.X-Api-Key",
            id="no-such-header-stored",
        ),
        pytest.param(
            {"url": "http://other:80/", "bearer_token": MASK},
            {"url": "http://h:80/", "bearer_token": "tok1"},
            "bearer_token",
            id="moved-host",
        ),
        pytest.param(
            {"url": f"https://u:{MASK}@h/"},
            {"url": "http://u:pw12@h/"},
            "url",
            id="moved-scheme",
        ),
    ],
)
def test_a_mask_that_cannot_be_kept_is_refused_naming_the_field(
    given: dict[str, Any], stored: dict[str, Any], field: str
) -> None:
    with pytest.raises(MaskedSecretError) as caught:
        restore_check_params("http", given, stored)
    assert caught.value.field == field
    for value in ("tok1", "pw12"):
        assert value not in str(caught.value)


def test_a_type_nobody_declared_is_masked_by_what_sounds_secret() -> None:
    masked = mask_check_params("gopher", {"dsn_password": "pw123", "host": "db", "port": 5432})
    assert masked == {"dsn_password": MASK, "host": "db", "port": 5432}
