"""The ``redis`` check type: connect with redis-py's asyncio connection, log in (AUTH, SELECT),
``PING`` or run the check's command; the command's answer is ``[VALUE]``.

One bare connection per run, closed at its end (see :mod:`nyxmon.probes.endpoint`): no client
object, no pool, no retries, no ``CLIENT SETINFO``, so a run costs what the protocol needs.
redis-py is imported when the first redis check runs.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from redis.asyncio.connection import Connection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, RedisError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError

from nyxmon.checktypes.redis import RedisSpec
from nyxmon.domain.model import Outcome
from nyxmon.probes.base import ProbeRun
from nyxmon.probes.endpoint import NO_QUERY, EndpointExecutor, ProbeFailure
from nyxmon.probes.registry import SharedResources

__all__ = ["TYPE_NAME", "RedisExecutor", "create_executor"]

TYPE_NAME = "redis"


def _plain(answer: Any) -> Any:
    if isinstance(answer, bytes):
        return answer.decode("utf-8", "replace")
    if isinstance(answer, list | tuple | set):
        return [_plain(item) for item in answer]
    if isinstance(answer, dict):
        return {str(_plain(key)): _plain(value) for key, value in answer.items()}
    return answer


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


class RedisExecutor(EndpointExecutor[RedisSpec]):
    """Runs ``redis`` checks: one fresh connection per run."""

    type_name: ClassVar[str] = TYPE_NAME
    spec_model = RedisSpec
    default_port: ClassVar[int] = 6379

    async def session(self, run: ProbeRun, spec: RedisSpec) -> Any:
        where = self.where(spec)
        connection = Connection(
            host=spec.host,
            port=spec.port,
            db=spec.database,
            username=spec.username,
            password=spec.password,
            # the check's timeout bounds the run; redis-py's own would only cut it short
            socket_timeout=None,
            socket_connect_timeout=None,
            retry=Retry(NoBackoff(), 0),
            driver_info=None,  # no CLIENT SETINFO round trips
        )
        try:
            try:
                await connection.connect()  # type: ignore[no-untyped-call]
            except AuthenticationError as exc:
                raise ProbeFailure(f"redis {where}: login refused: {_reason(exc)}") from None
            except RedisConnectionError as exc:
                cause = exc.__cause__ or exc.__context__
                if isinstance(cause, OSError):
                    raise cause from None
                raise ProbeFailure(f"redis {where}: {_reason(exc)}", Outcome.ERROR) from None
            except ResponseError as exc:  # SELECT of a database the server does not have
                raise ProbeFailure(f"redis {where}: login refused: {_reason(exc)}") from None
            run.timings["connect"] = run.elapsed()
            run.context = "querying"
            words = spec.command_words()
            sent = time.perf_counter()
            try:
                await connection.send_command(*words)
                answer = await connection.read_response()
            except ResponseError as exc:
                raise ProbeFailure(f"redis {where}: {words[0]} failed: {_reason(exc)}") from None
            except RedisError as exc:
                raise ProbeFailure(f"redis {where}: {_reason(exc)}", Outcome.ERROR) from None
            run.timings["query"] = time.perf_counter() - sent
        finally:
            await connection.disconnect()
        return NO_QUERY if spec.command is None else _plain(answer)


def create_executor(resources: SharedResources) -> RedisExecutor:
    """Registry factory: redis probes share nothing."""
    return RedisExecutor()
