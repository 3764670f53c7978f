"""The ``postgres`` check type's parameters: log in to PostgreSQL and run a trivial or a given
query (the probe: :mod:`nyxmon.probes.postgres`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from nyxmon.checktypes.base import CheckType
from nyxmon.checktypes.endpoint import (
    ENDPOINT_OBSERVES,
    EndpointSpec,
    SlowAfter,
    password_field,
    port_field,
    slow_field,
)

__all__ = ["POSTGRES", "PostgresSpec"]


class PostgresSpec(EndpointSpec):
    """Params of a ``postgres`` check."""

    port: int = port_field(5432)
    database: str = Field("postgres", min_length=1, description="database to connect to")
    username: str = Field("postgres", min_length=1, description="user to log in as")
    password: str | None = password_field()
    sslmode: Literal["disable", "prefer", "require", "verify-ca", "verify-full"] = Field(
        "prefer", description="TLS use, as libpq's sslmode"
    )
    query: str | None = Field(
        None, description="SQL run after login; its first value is [VALUE] (default: SELECT 1)"
    )
    max_response_time: SlowAfter = slow_field()


POSTGRES = CheckType(
    name="postgres",
    params=PostgresSpec,
    observes=ENDPOINT_OBSERVES,
    executor="nyxmon.probes.postgres:create_executor",
    summary="PostgreSQL: connect, log in, run a query ([VALUE] is its first value)",
)
