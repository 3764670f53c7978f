"""The ``redis`` check type: connect, log in (``HELLO 3 AUTH``, or RESP2 ``AUTH`` on servers
without HELLO; ``SELECT``), ``PING`` or run the check's command; the command's answer is
``[VALUE]``.

One bare connection per run, closed at its end (see :mod:`nyxmon.probes.endpoint`), spoken
by :mod:`nyxmon.probes.resp` (the protocol itself, not redis-py: see there why). The login
follows redis-py's: a password alone logs in as ``default``; a Redis before 6 gets ``AUTH``
with the password alone.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from nyxmon.checktypes.redis import RedisSpec
from nyxmon.domain.model import Outcome
from nyxmon.probes.base import ProbeRun
from nyxmon.probes.endpoint import NO_QUERY, EndpointExecutor, ProbeFailure
from nyxmon.probes.registry import SharedResources
from nyxmon.probes.resp import RedisProtocolError, RedisReplyError, RespConnection

__all__ = ["TYPE_NAME", "RedisExecutor", "create_executor"]

TYPE_NAME = "redis"
#: Error codes of a refused login (the rest of a HELLO error means: no RESP3 here).
_REFUSED = frozenset({"WRONGPASS", "NOAUTH", "NOPERM"})


def _plain(answer: Any) -> Any:
    if isinstance(answer, bytes):
        return answer.decode("utf-8", "replace")
    if isinstance(answer, list | tuple | set):
        return [_plain(item) for item in answer]
    if isinstance(answer, dict):
        return {str(_plain(key)): _plain(value) for key, value in answer.items()}
    return answer


async def _log_in(connection: RespConnection, spec: RedisSpec, where: str) -> None:
    """HELLO 3 (with AUTH when the check has a login), falling back to RESP2's AUTH; SELECT."""
    login: tuple[str, ...] = ()
    if spec.username or spec.password:
        login = (spec.username or "default", spec.password or "")
    try:
        try:
            await connection.call("HELLO", 3, *(("AUTH", *login) if login else ()))
        except RedisReplyError as exc:
            if exc.code in _REFUSED:
                raise
            if login:  # a Redis without HELLO, or without RESP3
                try:
                    await connection.call("AUTH", *login)
                except RedisReplyError as old:
                    if "wrong number of arguments" not in old.text:
                        raise
                    await connection.call("AUTH", login[1])  # before Redis 6: no users
        if spec.database:
            await connection.call("SELECT", spec.database)
    except RedisReplyError as exc:
        raise ProbeFailure(f"redis {where}: login refused: {exc}") from None


class RedisExecutor(EndpointExecutor[RedisSpec]):
    """Runs ``redis`` checks: one fresh connection per run."""

    type_name: ClassVar[str] = TYPE_NAME
    spec_model = RedisSpec
    default_port: ClassVar[int] = 6379

    async def session(self, run: ProbeRun, spec: RedisSpec) -> Any:
        where = self.where(spec)
        connection = await RespConnection.open(spec.host, spec.port)
        try:
            try:
                await _log_in(connection, spec, where)
                run.timings["connect"] = run.elapsed()
                run.context = "querying"
                words = spec.command_words()
                sent = time.perf_counter()
                try:
                    answer = await connection.call(*words)
                except RedisReplyError as exc:
                    raise ProbeFailure(f"redis {where}: {words[0]} failed: {exc}") from None
                run.timings["query"] = time.perf_counter() - sent
            except RedisProtocolError as exc:
                raise ProbeFailure(f"redis {where}: {exc}", Outcome.ERROR) from None
        finally:
            connection.close()
        return NO_QUERY if spec.command is None else _plain(answer)


def create_executor(resources: SharedResources) -> RedisExecutor:
    """Registry factory: redis probes share nothing."""
    return RedisExecutor()
