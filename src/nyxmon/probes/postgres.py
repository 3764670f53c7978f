"""The ``postgres`` check type: connect to PostgreSQL with psycopg 3 (async), log in, run
``SELECT 1`` or the check's query; the query's first value is ``[VALUE]``.

Each run opens its own connection and closes it (see :mod:`nyxmon.probes.endpoint`); psycopg
is imported when the first postgres check runs.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import psycopg

from nyxmon.checktypes.postgres import PostgresSpec
from nyxmon.domain.model import Outcome
from nyxmon.probes.base import ProbeRun
from nyxmon.probes.endpoint import NO_QUERY, EndpointExecutor, ProbeFailure, first_value
from nyxmon.probes.registry import SharedResources

__all__ = ["TYPE_NAME", "PostgresExecutor", "create_executor"]

TYPE_NAME = "postgres"
_LOGIN_REFUSED = ("authentication failed", "password", "does not exist", "no pg_hba.conf")


def _reason(exc: psycopg.Error) -> str:
    """libpq's message without its ``connection to server at ... failed:`` preamble."""
    text = " ".join(str(exc).split()).split(" Is the server running")[0]
    head, sep, tail = text.rpartition(" failed: ")
    return tail if sep and "connection" in head else text


class PostgresExecutor(EndpointExecutor[PostgresSpec]):
    """Runs ``postgres`` checks: one fresh connection per run."""

    type_name: ClassVar[str] = TYPE_NAME
    spec_model = PostgresSpec
    default_port: ClassVar[int] = 5432

    async def session(self, run: ProbeRun, spec: PostgresSpec) -> Any:
        where = self.where(spec)
        run.details["database"] = spec.database
        try:
            connection = await psycopg.AsyncConnection.connect(
                host=spec.host,
                port=spec.port,
                dbname=spec.database,
                user=spec.username,
                password=spec.password or "",
                sslmode=spec.sslmode,
                autocommit=True,
            )
        except psycopg.OperationalError as exc:
            reason = _reason(exc)
            if any(word in reason for word in _LOGIN_REFUSED):
                raise ProbeFailure(f"postgres {where}: login refused: {reason}") from None
            raise ProbeFailure(f"postgres {where}: {reason}", outcome=Outcome.ERROR) from None
        try:
            run.timings["connect"] = run.elapsed()
            run.context = "querying"
            sent = time.perf_counter()
            try:
                cursor = await connection.execute(spec.query or "SELECT 1")
                row = await cursor.fetchone() if cursor.description else None
            except psycopg.Error as exc:
                raise ProbeFailure(f"postgres {where}: query failed: {_reason(exc)}") from None
            run.timings["query"] = time.perf_counter() - sent
        finally:
            await connection.close()
        return NO_QUERY if spec.query is None else first_value(row)


def create_executor(resources: SharedResources) -> PostgresExecutor:
    """Registry factory: postgres probes share nothing."""
    return PostgresExecutor()
