"""The ``nats`` check type's parameters: connect and log in to a NATS server, optionally send
a request and wait for its reply (the probe: :mod:`nyxmon.probes.nats`)."""

from __future__ import annotations

from pydantic import Field, field_validator

from nyxmon.checktypes.base import CheckType
from nyxmon.checktypes.endpoint import (
    ENDPOINT_OBSERVES,
    EndpointSpec,
    SlowAfter,
    password_field,
    port_field,
    slow_field,
)

__all__ = ["NATS", "NatsSpec"]


class NatsSpec(EndpointSpec):
    """Params of a ``nats`` check."""

    port: int = port_field(4222)
    username: str | None = Field(None, description="user to log in as (default: anonymous)")
    password: str | None = password_field()
    subject: str | None = Field(
        None, description="subject to send a request to; a service must reply, its reply is [VALUE]"
    )
    payload: str = Field("nyxmon", description="the request's payload")
    max_response_time: SlowAfter = slow_field()

    @field_validator("subject")
    @classmethod
    def _check_subject(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or any(c in value for c in " \t*>")):
            raise ValueError("must be a subject to send to, without spaces or wildcards (* or >)")
        return value


NATS = CheckType(
    name="nats",
    params=NatsSpec,
    observes=ENDPOINT_OBSERVES,
    executor="nyxmon.probes.nats:create_executor",
    summary="NATS: connect, log in, PING/PONG or a request whose reply is [VALUE]",
)
