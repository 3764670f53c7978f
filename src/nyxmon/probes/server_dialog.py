"""The shape every protocol probe shares: connect, greeting, capabilities, STARTTLS, login, bye.

``smtp``, ``imap``, ``pop3`` and ``ftp`` (and ``ssh``, which stops after the greeting) differ only
in the words they exchange, so :class:`DialogExecutor` runs the steps, times them, turns each
failure into one line naming the step, and judges the greeting against ``expect_banner`` and
the conditions (``[BODY]`` is the greeting). Subclasses write the protocol's words.
A login's password is sent, never quoted: messages quote only what the server said.
"""

from __future__ import annotations

import contextlib
import re
import time
from typing import ClassVar, TypeVar

from nyxmon.checktypes.connection import MailServerSpec, ServerSpec
from nyxmon.domain.conditions import Observation, evaluate_all
from nyxmon.domain.model import Outcome, Result
from nyxmon.probes.base import PreparedCheck, ProbeExecutor, ProbeRun
from nyxmon.probes.replies import quote
from nyxmon.probes.stream_session import SessionFailure, StreamSession, client_context

__all__ = ["DialogExecutor", "not_offered", "refused"]

SpecT = TypeVar("SpecT", bound=ServerSpec)


class DialogExecutor(ProbeExecutor[SpecT]):
    """Runs one protocol's checks; subclasses set the ports and implement the steps."""

    #: (plain port, implicit TLS port)
    ports: ClassVar[tuple[int, int]]
    #: The protocol's name in messages ("SMTP").
    protocol: ClassVar[str]

    async def greet(self, session: StreamSession, spec: SpecT) -> str:
        """Read the greeting; SessionFailure(FAIL) when it is not this protocol's welcome."""
        raise NotImplementedError

    async def capabilities(self, session: StreamSession, spec: SpecT) -> list[str]:
        """Ask what the server offers (EHLO, CAPABILITY, CAPA, FEAT)."""
        return []

    async def request_tls(self, session: StreamSession, spec: SpecT, offered: list[str]) -> None:
        """Ask for the upgrade; the handshake itself follows."""
        raise NotImplementedError

    async def login(self, session: StreamSession, spec: SpecT, offered: list[str]) -> None:
        """Log in with the check's credentials; SessionFailure(FAIL) when refused."""
        raise NotImplementedError

    def describe_banner(self, banner: str) -> dict[str, str]:
        """Details read from the greeting (the SSH version and software)."""
        return {}

    def goodbye(self) -> bytes:
        """Sent before dropping the connection, so the server logs a clean end."""
        return b"QUIT\r\n"

    def port_of(self, spec: SpecT) -> int:
        if spec.port is not None:
            return spec.port
        implicit = isinstance(spec, MailServerSpec) and spec.tls == "implicit"
        return self.ports[1] if implicit else self.ports[0]

    async def probe(self, run: ProbeRun, prepared: PreparedCheck[SpecT]) -> Result:
        spec = prepared.spec
        run.context = "connecting"
        try:
            session = await StreamSession.connect(spec.host, self.port_of(spec), run.timings)
        except SessionFailure as failure:
            run.details["connected"] = False
            return run.finish(failure.outcome, failure.message)
        run.context = session
        try:
            banner, offered = await self._talk(run, session, spec)
        except SessionFailure as failure:
            if session.ip:
                run.details["ip"] = session.ip
            return run.finish(failure.outcome, failure.message)
        finally:
            session.close()
        return self._judge(run, prepared, session, banner, offered)

    async def _talk(
        self, run: ProbeRun, session: StreamSession, spec: SpecT
    ) -> tuple[str, list[str]]:
        tls = spec.tls if isinstance(spec, MailServerSpec) else "none"
        if isinstance(spec, MailServerSpec) and tls == "implicit":
            context = client_context(spec.verify_tls, spec.ca_file)
            await session.start_tls(context, spec.server_name or spec.host)
        started = time.perf_counter()
        banner = await self.greet(session, spec)
        run.timings["banner"] = time.perf_counter() - started
        run.details["banner"] = banner[:200]
        described = self.describe_banner(banner)
        if described:
            run.details.update(described)
        if spec.expect_banner is not None and re.search(spec.expect_banner, banner) is None:
            raise SessionFailure(
                Outcome.FAIL, f"banner {quote(banner)} does not match {spec.expect_banner!r}"
            )
        offered = await self.capabilities(session, spec)
        if isinstance(spec, MailServerSpec) and tls == "starttls":
            await self.request_tls(session, spec, offered)
            context = client_context(spec.verify_tls, spec.ca_file)
            await session.start_tls(context, spec.server_name or spec.host)
            offered = await self.capabilities(session, spec)
        if isinstance(spec, MailServerSpec) and spec.username is not None:
            started = time.perf_counter()
            await self.login(session, spec, offered)
            run.timings["login"] = time.perf_counter() - started
            run.details["logged_in_as"] = spec.username
        goodbye = self.goodbye()
        if goodbye:
            # the server may have hung up already: nothing left to be polite to
            with contextlib.suppress(OSError):
                session.send_nowait(goodbye)
        return banner, offered

    def _judge(
        self,
        run: ProbeRun,
        prepared: PreparedCheck[SpecT],
        session: StreamSession,
        banner: str,
        offered: list[str],
    ) -> Result:
        spec = prepared.spec
        total = run.elapsed()
        run.timings["total"] = total
        details = run.details
        details["connected"] = True
        if session.ip:
            details["ip"] = session.ip
        if offered:
            details["capabilities"] = offered[:40]
        cert_left: float | None = None
        if (not_after := session.certificate_not_after()) is not None:
            cert_left = not_after - time.time()
            details["cert_days_left"] = round(cert_left / 86_400, 2)
        if prepared.conditions:
            observation = Observation(
                body=banner.encode(),
                response_time_ms=total * 1000,
                connected=True,
                certificate_expiration=cert_left,
                ips=(session.ip,) if session.ip else (),
            )
            outcomes = evaluate_all(prepared.conditions, observation)
            failed = [o.description for o in outcomes if not o.ok]
            if failed:
                details["failed_conditions"] = failed
                return run.finish(Outcome.FAIL, "; ".join(failed))
        steps = self.protocol
        tls = session.ssl_object
        if tls is not None:
            steps += f" over {tls.version()}"
        if "logged_in_as" in details:
            steps += f" logged in as {details['logged_in_as']}"
        message = f"{steps} in {total * 1000:.0f} ms: {banner[:80]}"
        if spec.max_response_time is not None and total > spec.max_response_time:
            return run.finish(
                Outcome.OK,
                f"slower than {spec.max_response_time * 1000:.0f} ms; {message}",
                degraded=True,
            )
        return run.finish(Outcome.OK, message)

    def on_timeout(self, run: ProbeRun) -> str:
        where = run.context
        if isinstance(where, StreamSession):
            return f"no answer from {where.target} within {run.check.timeout:g} s ({where.stage})"
        return f"no answer within {run.check.timeout:g} s (connecting)"


def not_offered(session: StreamSession, protocol: str, what: str) -> SessionFailure:
    """The server does not offer ``what`` (STARTTLS, AUTH) that the check asks for."""
    return SessionFailure(Outcome.FAIL, f"{protocol} server {session.target} does not offer {what}")


def refused(session: StreamSession, step: str, answer: str) -> SessionFailure:
    """The server refused ``step`` ("login as nyx"), quoting its answer."""
    return SessionFailure(Outcome.FAIL, f"{step} refused by {session.target}: {quote(answer)}")
