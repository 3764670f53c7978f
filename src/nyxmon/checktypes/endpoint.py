"""What the database and broker types share: a server to connect and log in to, the time that
took, and an optional query whose first value conditions read as ``[VALUE]``.

Passwords are ordinary ``str`` fields named ``password`` (and marked ``writeOnly`` with format
``password`` in the JSON schema): the name is what :mod:`nyxmon.domain.redaction` registers as
a secret, and what the forms show as a password input.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from nyxmon.checktypes.base import SECRET_FIELD, SpecModel, password_field
from nyxmon.checktypes.connection import Host
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

#: What every database and broker probe observes: the login's round trip and the query's value.
ENDPOINT_OBSERVES = frozenset({"CONNECTED", "RESPONSE_TIME", "VALUE"})


def port_field(default: int) -> Any:
    return Field(default, ge=1, le=65_535, description=f"server port (default {default})")


def slow_field() -> Any:
    return Field(
        None, description="a passing run slower than this is degraded: 500ms, 2s (or seconds)"
    )


class EndpointSpec(SpecModel):
    """A server to connect to; each type adds its port, login and query (then
    ``max_response_time``, from :func:`slow_field`)."""

    host: Host = Field(description="host name or IP address of the server")

    def secrets(self) -> frozenset[str]:
        """What a probe's messages must never contain (the password, when there is one)."""
        password = getattr(self, "password", None)
        return frozenset({password}) if password else frozenset()


SlowAfter = PositiveDuration | None
