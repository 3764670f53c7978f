"""What the database and broker types share: a server to connect and log in to, the time that
took, and an optional query whose first value conditions read as ``[VALUE]``.

Passwords are ordinary ``str`` fields named ``password`` (and marked ``writeOnly`` with format
``password`` in the JSON schema): the name is what :mod:`nyxmon.domain.redaction` registers as
a secret, and what the forms show as a password input.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from nyxmon.checktypes.base import SpecModel, secret
from nyxmon.checktypes.durations import PositiveDuration

__all__ = [
    "ENDPOINT_OBSERVES",
    "SECRET_FIELD",
    "EndpointSpec",
    "SlowAfter",
    "password_field",
    "port_field",
    "slow_field",
]

#: JSON schema marks of a secret field: the declared secret (write-only through the API, masked
#: in answers and pages), and OpenAPI's password format so forms show a password input.
SECRET_FIELD: dict[str, Any] = {**secret("value"), "format": "password"}

#: What every database and broker probe observes: the login's round trip and the query's value.
ENDPOINT_OBSERVES = frozenset({"CONNECTED", "RESPONSE_TIME", "VALUE"})


def password_field(description: str = "password (may come from an environment variable)") -> Any:
    """A ``password`` field: optional, secret, never shown back in full."""
    return Field(None, description=description, json_schema_extra=SECRET_FIELD)


def port_field(default: int) -> Any:
    return Field(default, ge=1, le=65_535, description=f"server port (default {default})")


def slow_field() -> Any:
    return Field(
        None, description="a passing run slower than this is degraded: 500ms, 2s (or seconds)"
    )


class EndpointSpec(SpecModel):
    """A server to connect to; each type adds its port, login and query (then
    ``max_response_time``, from :func:`slow_field`)."""

    host: str = Field(min_length=1, description="host name or IP address of the server")

    def secrets(self) -> frozenset[str]:
        """What a probe's messages must never contain (the password, when there is one)."""
        password = getattr(self, "password", None)
        return frozenset({password}) if password else frozenset()


SlowAfter = PositiveDuration | None
