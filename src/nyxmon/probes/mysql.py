"""The ``mysql`` check type: connect to MySQL or MariaDB with aiomysql, log in, ping or run the
check's query; the query's first value is ``[VALUE]``.

Each run opens its own connection and closes it (see :mod:`nyxmon.probes.endpoint`); aiomysql
is imported when the first mysql check runs, without ``cryptography`` (see
:mod:`nyxmon.probes._mysql_client`).
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from nyxmon.checktypes.mysql import MysqlSpec
from nyxmon.domain.model import Outcome
from nyxmon.probes._mysql_client import aiomysql, pymysql
from nyxmon.probes.base import ProbeRun
from nyxmon.probes.endpoint import NO_QUERY, EndpointExecutor, ProbeFailure, first_value
from nyxmon.probes.registry import SharedResources

__all__ = ["TYPE_NAME", "MysqlExecutor", "create_executor"]

TYPE_NAME = "mysql"
_ACCESS_DENIED = (1044, 1045, 1049, 1698)  # access denied (db, user), unknown db, no socket auth
_CANNOT_CONNECT = 2003


def _reason(exc: pymysql.Error) -> str:
    args = exc.args
    return str(args[1]) if len(args) > 1 else str(exc)


class MysqlExecutor(EndpointExecutor[MysqlSpec]):
    """Runs ``mysql`` checks: one fresh connection per run."""

    type_name: ClassVar[str] = TYPE_NAME
    spec_model = MysqlSpec
    default_port: ClassVar[int] = 3306

    async def session(self, run: ProbeRun, spec: MysqlSpec) -> Any:
        where = self.where(spec)
        try:
            connection = await aiomysql.connect(
                host=spec.host,
                port=spec.port,
                user=spec.username,
                password=spec.password or "",
                db=spec.database,
                # our own timeout bounds the run; aiomysql's would only cut it short
                connect_timeout=run.check.timeout + 1,
                autocommit=True,
            )
        except pymysql.OperationalError as exc:
            code = exc.args[0] if exc.args else None
            if code in _ACCESS_DENIED:
                raise ProbeFailure(f"mysql {where}: login refused: {_reason(exc)}") from None
            cause = exc.__cause__ or exc.__context__
            if code == _CANNOT_CONNECT and isinstance(cause, OSError):
                raise cause from None
            raise ProbeFailure(f"mysql {where}: {_reason(exc)}", Outcome.ERROR) from None
        try:
            run.timings["connect"] = run.elapsed()
            run.context = "querying"
            sent = time.perf_counter()
            row = None
            try:
                if spec.query is None:
                    await connection.ping(reconnect=False)
                else:
                    async with connection.cursor() as cursor:
                        await cursor.execute(spec.query)
                        row = await cursor.fetchone()
            except pymysql.Error as exc:
                raise ProbeFailure(f"mysql {where}: query failed: {_reason(exc)}") from None
            run.timings["query"] = time.perf_counter() - sent
        finally:
            connection.close()
        return NO_QUERY if spec.query is None else first_value(row)


def create_executor(resources: SharedResources) -> MysqlExecutor:
    """Registry factory: mysql probes share nothing."""
    return MysqlExecutor()
