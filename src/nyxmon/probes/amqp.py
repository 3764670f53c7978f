"""The ``amqp`` check type: log in to an AMQP 0-9-1 broker with aiormq, open a channel and,
when the check names a queue, declare it passively (it must exist; nothing is created); the
queue's message count is ``[VALUE]``.

Each run opens its own connection and closes it (see :mod:`nyxmon.probes.endpoint`); aiormq is
imported when the first amqp check runs.
"""

from __future__ import annotations

import logging
import time
from typing import Any, ClassVar
from urllib.parse import quote

import aiormq
import aiormq.exceptions
from pamqp.exceptions import PAMQPException

from nyxmon.checktypes.amqp import AmqpSpec
from nyxmon.domain.model import Outcome
from nyxmon.probes.base import ProbeRun
from nyxmon.probes.endpoint import NO_QUERY, EndpointExecutor, ProbeFailure
from nyxmon.probes.registry import SharedResources

__all__ = ["TYPE_NAME", "AmqpExecutor", "create_executor"]

TYPE_NAME = "amqp"


class _QuietConnectFailures(logging.Filter):
    """aiormq logs every failed connect at ERROR; the probe's result already says it, and at
    one failing check every few seconds the log would fill with copies."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("error when creating transport")


logging.getLogger("aiormq.connection").addFilter(_QuietConnectFailures())


def _url(spec: AmqpSpec) -> str:
    user = quote(spec.username, safe="")
    password = quote(spec.password or "", safe="")
    vhost = quote(spec.vhost, safe="")
    return f"amqp://{user}:{password}@{spec.host}:{spec.port}/{vhost}"


def _reason(exc: BaseException) -> str:
    args = [str(arg) for arg in getattr(exc, "args", ()) if str(arg)]
    return ": ".join(args) if args else type(exc).__name__


def _os_error(exc: BaseException) -> OSError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError):
            return seen
        if isinstance(seen, aiormq.exceptions.AMQPConnectionError):
            nested = next((a for a in seen.args if isinstance(a, OSError)), None)
            if nested is not None:
                return nested
        seen = seen.__cause__ or seen.__context__
    return None


class AmqpExecutor(EndpointExecutor[AmqpSpec]):
    """Runs ``amqp`` checks: one fresh connection per run."""

    type_name: ClassVar[str] = TYPE_NAME
    spec_model = AmqpSpec
    default_port: ClassVar[int] = 5672

    async def session(self, run: ProbeRun, spec: AmqpSpec) -> Any:
        where = self.where(spec)
        run.details["vhost"] = spec.vhost
        try:
            connection = await aiormq.connect(_url(spec))
        except aiormq.exceptions.ProbableAuthenticationError as exc:
            raise ProbeFailure(f"amqp {where}: login refused: {_reason(exc)}") from None
        except (aiormq.exceptions.AMQPError, PAMQPException, OSError) as exc:
            cause = _os_error(exc)
            if cause is not None:
                raise cause from None
            if "Connection.Close" in _reason(exc):  # refused at Connection.Open
                raise ProbeFailure(
                    f"amqp {where}: login refused: the broker closed the connection on opening "
                    f"vhost {spec.vhost!r} (missing, or not allowed for {spec.username!r})"
                ) from None
            raise ProbeFailure(f"amqp {where}: {_reason(exc)}", Outcome.ERROR) from None
        try:
            run.timings["connect"] = run.elapsed()
            run.context = "opening a channel"
            sent = time.perf_counter()
            try:
                channel = await connection.channel()
                value: Any = NO_QUERY
                if spec.queue is not None:
                    run.context = f"declaring queue {spec.queue!r}"
                    declared = await channel.queue_declare(spec.queue, passive=True)
                    value = declared.message_count
            except aiormq.exceptions.ChannelNotFoundEntity:
                raise ProbeFailure(f"amqp {where}: no queue {spec.queue!r}") from None
            except (aiormq.exceptions.AMQPError, PAMQPException) as exc:
                raise ProbeFailure(f"amqp {where}: {_reason(exc)}") from None
            run.timings["query"] = time.perf_counter() - sent
        finally:
            await connection.close()
        return value


def create_executor(resources: SharedResources) -> AmqpExecutor:
    """Registry factory: amqp probes share nothing."""
    return AmqpExecutor()
