"""The ``redis`` check type's parameters: log in to Redis, ``PING`` or run one read command
(the probe: :mod:`nyxmon.probes.redis`)."""

from __future__ import annotations

import shlex

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

__all__ = ["REDIS", "RedisSpec"]


class RedisSpec(EndpointSpec):
    """Params of a ``redis`` check."""

    port: int = port_field(6379)
    database: int = Field(0, ge=0, description="database number to select")
    username: str | None = Field(None, description="ACL user (default: the default user)")
    password: str | None = password_field()
    command: str | None = Field(
        None,
        description="command run after login, e.g. GET key or LLEN queue; its answer is [VALUE] "
        "(default: PING)",
    )
    max_response_time: SlowAfter = slow_field()

    @field_validator("command")
    @classmethod
    def _check_command(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            words = shlex.split(value)
        except ValueError as exc:
            raise ValueError(f"cannot split {value!r} into words: {exc}") from None
        if not words:
            raise ValueError("is empty; leave it out to PING")
        return value

    def command_words(self) -> list[str]:
        return shlex.split(self.command) if self.command else ["PING"]


REDIS = CheckType(
    name="redis",
    params=RedisSpec,
    observes=ENDPOINT_OBSERVES,
    executor="nyxmon.probes.redis:create_executor",
    summary="Redis: connect, log in, PING or run a command ([VALUE] is its answer)",
)
