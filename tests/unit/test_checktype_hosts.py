"""Every check type that dials a ``host`` refuses one that is neither a host name nor an IP
address when the check is written (naming the field), instead of failing every run later with
a resolver's error (a fuzzer's ``"\\U000fb41a"`` reached the MQTT client's IDNA codec)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from nyxmon.checktypes import CHECK_TYPES

WITH_HOST = sorted(name for name, t in CHECK_TYPES.items() if "host" in t.params.model_fields)


def params(type_name: str, host: str) -> dict[str, object]:
    """``host`` and whatever else the type cannot do without (a port for tcp and udp)."""
    fields = CHECK_TYPES[type_name].params.model_fields
    needed = {"port": 9} if "port" in fields and fields["port"].is_required() else {}
    return {"host": host, **needed}


def test_the_network_and_data_types_take_a_host() -> None:
    assert {"tcp", "tls", "postgres", "redis", "mqtt", "smtp"} <= set(WITH_HOST)


@pytest.mark.parametrize("type_name", WITH_HOST)
@pytest.mark.parametrize("host", ["a b", "\U000fb41a", "db..example", "", "x/y"])
def test_a_host_that_cannot_be_dialled_is_refused_naming_the_field(
    type_name: str, host: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        CHECK_TYPES[type_name].params.model_validate(params(type_name, host))
    assert [error["loc"] for error in caught.value.errors()] == [("host",)]


@pytest.mark.parametrize("type_name", WITH_HOST)
@pytest.mark.parametrize(
    ("host", "stored"),
    [("DB.Example.", "db.example"), ("[::1]", "::1"), ("127.0.0.1", "127.0.0.1")],
)
def test_names_and_addresses_are_kept_in_one_spelling(
    type_name: str, host: str, stored: str
) -> None:
    spec = CHECK_TYPES[type_name].params.model_validate(params(type_name, host))
    assert spec.model_dump()["host"] == stored
