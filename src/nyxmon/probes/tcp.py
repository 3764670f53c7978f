"""The ``tcp`` check type: connect, optionally over TLS, optionally send and expect an answer.

A run passes when the connection (and the handshake) succeeds, the answer contains ``expect``
and matches ``expect_regex`` and every condition holds; ``[BODY]`` is what was read (the banner
when nothing was sent). Reading stops as soon as the expectation is met, at ``read_limit``
bytes or when the server closes. A refused connect is an error, unless a condition reads
``[CONNECTED]``: then ``[CONNECTED] == false`` can assert that a port is closed.
"""

from __future__ import annotations

import re
import time
from typing import ClassVar

from nyxmon.checktypes.tcp import TcpSpec
from nyxmon.domain.conditions import Observation, evaluate_all
from nyxmon.domain.model import Outcome, Result
from nyxmon.probes.base import PreparedCheck, ProbeExecutor, ProbeRun
from nyxmon.probes.registry import SharedResources
from nyxmon.probes.replies import quote
from nyxmon.probes.starttls import prepare_starttls
from nyxmon.probes.stream_session import SessionFailure, StreamSession, client_context

__all__ = ["TYPE_NAME", "TcpExecutor", "create_executor"]

TYPE_NAME = "tcp"


class TcpExecutor(ProbeExecutor[TcpSpec]):
    """Runs ``tcp`` checks on asyncio streams (no shared resources)."""

    type_name: ClassVar[str] = TYPE_NAME
    spec_model = TcpSpec

    async def probe(self, run: ProbeRun, prepared: PreparedCheck[TcpSpec]) -> Result:
        spec = prepared.spec
        run.context = "connecting"
        try:
            session = await StreamSession.connect(spec.host, spec.port, run.timings)
        except SessionFailure as failure:
            return self._not_connected(run, prepared, failure)
        run.context = session
        try:
            answer = await self._talk(session, spec)
        except SessionFailure as failure:
            return self._finish_failed(run, session, failure)
        finally:
            session.close()
        return self._judge(run, prepared, session, answer)

    async def _talk(self, session: StreamSession, spec: TcpSpec) -> bytes:
        server_name = spec.server_name or spec.host
        if spec.starttls is not None:
            await prepare_starttls(session, spec.starttls, "nyxmon.invalid")
        if spec.tls or spec.starttls is not None:
            await session.start_tls(client_context(spec.verify_tls, spec.ca_file), server_name)
        if spec.send is not None:
            await session.send(spec.send.encode())
        if not spec.reads():
            return b""
        pattern = re.compile(spec.expect_regex.encode()) if spec.expect_regex else None
        needle = spec.expect.encode() if spec.expect is not None else None

        def enough(data: bytes) -> bool:
            if needle is not None and needle not in data:
                return False
            if pattern is not None and pattern.search(data) is None:
                return False
            return bool(data) and (needle is not None or pattern is not None)

        started = time.perf_counter()
        answer = await session.read_until(spec.read_limit, enough)
        session.timings["read"] = time.perf_counter() - started
        return answer

    def _not_connected(
        self, run: ProbeRun, prepared: PreparedCheck[TcpSpec], failure: SessionFailure
    ) -> Result:
        conditions = prepared.conditions
        run.details["connected"] = False
        if conditions and any(c.uses("CONNECTED") for c in conditions):
            outcomes = evaluate_all(conditions, Observation(connected=False))
            failed = [o.description for o in outcomes if not o.ok]
            if not failed:
                return run.finish(Outcome.OK, f"{failure.message}, as the conditions expect")
            run.details["failed_conditions"] = failed
            return run.finish(Outcome.FAIL, "; ".join([failure.message, *failed]))
        return run.finish(failure.outcome, failure.message)

    def _finish_failed(
        self, run: ProbeRun, session: StreamSession, failure: SessionFailure
    ) -> Result:
        if session.ip:
            run.details["ip"] = session.ip
        return run.finish(failure.outcome, failure.message)

    def _judge(
        self,
        run: ProbeRun,
        prepared: PreparedCheck[TcpSpec],
        session: StreamSession,
        answer: bytes,
    ) -> Result:
        spec = prepared.spec
        total = run.elapsed()
        run.timings["total"] = total
        details = run.details
        details["connected"] = True
        if session.ip:
            details["ip"] = session.ip
        cert_left: float | None = None
        if (not_after := session.certificate_not_after()) is not None:
            cert_left = not_after - time.time()
            details["cert_days_left"] = round(cert_left / 86_400, 2)
        if spec.reads():
            details["answer"] = answer[:200].decode("utf-8", "replace")
        problems: list[str] = []
        if spec.expect is not None and spec.expect.encode() not in answer:
            problems.append(f"answer {quote(answer[:200])} lacks {spec.expect!r}")
        if spec.expect_regex and re.search(spec.expect_regex.encode(), answer) is None:
            problems.append(f"answer {quote(answer[:200])} does not match {spec.expect_regex!r}")
        if prepared.conditions:
            observation = Observation(
                body=answer,
                response_time_ms=total * 1000,
                connected=True,
                certificate_expiration=cert_left,
                ips=(session.ip,) if session.ip else (),
            )
            outcomes = evaluate_all(prepared.conditions, observation)
            failed = [o.description for o in outcomes if not o.ok]
            if failed:
                details["failed_conditions"] = failed
                problems.extend(failed)
        if problems:
            return run.finish(Outcome.FAIL, "; ".join(problems))
        tls = " over TLS" if session.encrypted else ""
        message = f"connected to {session.target}{tls} in {total * 1000:.0f} ms"
        if spec.max_response_time is not None and total > spec.max_response_time:
            return run.finish(
                Outcome.OK,
                f"{message}, slower than {spec.max_response_time * 1000:.0f} ms",
                degraded=True,
            )
        return run.finish(Outcome.OK, message)

    def on_timeout(self, run: ProbeRun) -> str:
        where = run.context
        if isinstance(where, StreamSession):
            where.close()
            got = f"; got {quote(where.received[:200])}" if where.received else ""
            return (
                f"no answer from {where.target} within {run.check.timeout:g} s ({where.stage}{got})"
            )
        stage = where if isinstance(where, str) else "connecting"
        return f"no answer within {run.check.timeout:g} s ({stage})"


def create_executor(resources: SharedResources) -> TcpExecutor:
    """Registry factory: TCP probes need no shared resources."""
    return TcpExecutor()
