"""Every password a check type takes is declared secret in its schema and registered as a
secret by the redaction rules, so answers, logs and stored errors can never repeat it."""

from __future__ import annotations

import pytest

from nyxmon.checktypes import CHECK_TYPES
from nyxmon.checktypes.base import SECRET
from nyxmon.domain.redaction import secrets_in_params

WITH_PASSWORD = sorted(
    name for name, t in CHECK_TYPES.items() if "password" in t.params.model_fields
)


def test_the_data_types_take_passwords() -> None:
    assert {"amqp", "mqtt", "mysql", "nats", "postgres", "redis"} <= set(WITH_PASSWORD)


@pytest.mark.parametrize("type_name", WITH_PASSWORD)
def test_passwords_are_marked_secret_in_the_schema(type_name: str) -> None:
    schema = CHECK_TYPES[type_name].params.model_json_schema()["properties"]["password"]
    assert schema["writeOnly"] is True
    assert schema["format"] == "password"
    assert schema[SECRET] == "value"  # declared: masked in answers, a mask keeps it


@pytest.mark.parametrize("type_name", WITH_PASSWORD)
def test_passwords_are_registered_as_secrets(type_name: str) -> None:
    params = {"host": "db.example", "password": "Sup3r-secret"}
    if "username" in CHECK_TYPES[type_name].params.model_fields:
        params["username"] = "monitor"  # the mail types refuse a password without a user
    spec = CHECK_TYPES[type_name].params.model_validate(params)
    assert "Sup3r-secret" in secrets_in_params(spec.model_dump())
