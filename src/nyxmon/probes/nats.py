"""The ``nats`` check type: connect and log in to a NATS server with nats-py, then a PING/PONG
round trip, or the check's request and its reply (``[VALUE]``).

Reconnects are off and each run opens one fresh connection, closed at its end (see
:mod:`nyxmon.probes.endpoint`). nats-py is imported when the first nats check runs.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import nats.errors
from nats.aio.client import Client as NATS

from nyxmon.checktypes.nats import NatsSpec
from nyxmon.domain.model import Outcome
from nyxmon.probes.base import ProbeRun
from nyxmon.probes.endpoint import NO_QUERY, EndpointExecutor, ProbeFailure
from nyxmon.probes.registry import SharedResources

__all__ = ["TYPE_NAME", "NatsExecutor", "create_executor"]

TYPE_NAME = "nats"


class NatsExecutor(EndpointExecutor[NatsSpec]):
    """Runs ``nats`` checks: one fresh connection per run."""

    type_name: ClassVar[str] = TYPE_NAME
    spec_model = NatsSpec
    default_port: ClassVar[int] = 4222

    async def session(self, run: ProbeRun, spec: NatsSpec) -> Any:
        client = NATS()
        try:
            await self._connect(run, spec, client)
            run.timings["connect"] = run.elapsed()
            return await self._ask(run, spec, client)
        finally:
            # also after a refusal or a timeout: nats-py leaves a half-open connection behind
            await client.close()

    async def _connect(self, run: ProbeRun, spec: NatsSpec, client: NATS) -> None:
        where = self.where(spec)
        errors: list[Exception] = []

        async def keep(error: Exception) -> None:  # instead of nats-py logging each one
            errors.append(error)

        try:
            await client.connect(
                servers=[f"nats://{spec.host}:{spec.port}"],
                user=spec.username,
                password=spec.password,
                # nats-py reads 0 as "retry forever" on the first connect; 1 with no wait is
                # a second immediate attempt, then it gives up
                allow_reconnect=False,
                max_reconnect_attempts=1,
                reconnect_time_wait=0,
                connect_timeout=int(run.check.timeout) + 1,  # the check's own timeout first
                error_cb=keep,
            )
        except nats.errors.NoServersError:
            refused = next((e for e in reversed(errors) if isinstance(e, OSError)), None)
            if refused is not None:
                raise refused from None
            reason = str(errors[-1]) if errors else "no server answered"
            raise ProbeFailure(f"nats {where}: {reason}", Outcome.ERROR) from None
        except nats.errors.Error as exc:
            if isinstance(exc, nats.errors.AuthorizationError) or (
                "authorization violation" in str(exc).lower()  # the server's -ERR to CONNECT
            ):
                raise ProbeFailure(
                    f"nats {where}: login refused: authorization violation"
                ) from None
            raise ProbeFailure(f"nats {where}: {exc}", Outcome.ERROR) from None

    async def _ask(self, run: ProbeRun, spec: NatsSpec, client: NATS) -> Any:
        sent = time.perf_counter()
        wait = int(run.check.timeout) + 1  # the check's own timeout comes first
        if spec.subject is None:
            run.context = "waiting for PONG"
            await client.flush(timeout=wait)
            run.timings["query"] = time.perf_counter() - sent
            return NO_QUERY
        run.context = f"waiting for a reply on {spec.subject!r}"
        try:
            reply = await client.request(spec.subject, spec.payload.encode(), timeout=wait)
        except nats.errors.NoRespondersError:
            raise ProbeFailure(
                f"nats {self.where(spec)}: no service answers on {spec.subject!r}"
            ) from None
        run.timings["query"] = time.perf_counter() - sent
        return reply.data.decode("utf-8", "replace")


def create_executor(resources: SharedResources) -> NatsExecutor:
    """Registry factory: nats probes share nothing."""
    return NatsExecutor()
