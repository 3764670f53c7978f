"""The ``mysql`` check type's parameters: log in to MySQL or MariaDB and run a trivial or a
given query (the probe: :mod:`nyxmon.probes.mysql`)."""

from __future__ import annotations

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

__all__ = ["MYSQL", "MysqlSpec"]


class MysqlSpec(EndpointSpec):
    """Params of a ``mysql`` check."""

    port: int = port_field(3306)
    database: str | None = Field(None, description="database to use (default: none)")
    username: str = Field("root", min_length=1, description="user to log in as")
    password: str | None = password_field()
    query: str | None = Field(
        None, description="SQL run after login; its first value is [VALUE] (default: a ping)"
    )
    max_response_time: SlowAfter = slow_field()


MYSQL = CheckType(
    name="mysql",
    params=MysqlSpec,
    observes=ENDPOINT_OBSERVES,
    executor="nyxmon.probes.mysql:create_executor",
    summary="MySQL or MariaDB: connect, log in, ping or run a query ([VALUE] is its first value)",
)
