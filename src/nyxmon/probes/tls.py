"""The ``tls`` check type: a handshake with ``host:port`` (directly or after STARTTLS) and what
the certificate says.

A run passes when the chain verifies (unless ``verify_tls`` is off), the certificate carries the
server name, has not expired, the protocol is at least ``min_version`` and every condition
holds; within ``warn_days`` of expiry a passing run is *degraded*, and every message says how
many days are left. When verification rejects the certificate the probe shakes hands once more
without verifying, only to read it, so the result says what was wrong with it ("expired 2 days
ago", "issued for other.example") and its details show subject, issuer and names.
"""

from __future__ import annotations

import datetime
import time
from typing import ClassVar

from nyxmon.checktypes.tls import TlsSpec
from nyxmon.domain.conditions import Observation, evaluate_all
from nyxmon.domain.model import Outcome, Result
from nyxmon.probes.base import PreparedCheck, ProbeExecutor, ProbeRun
from nyxmon.probes.certificates import CertificateInfo, matches_host, read_certificate
from nyxmon.probes.registry import SharedResources
from nyxmon.probes.starttls import prepare_starttls
from nyxmon.probes.stream_session import SessionFailure, StreamSession, client_context

__all__ = ["TYPE_NAME", "TlsExecutor", "create_executor"]

TYPE_NAME = "tls"
_DAY = 86_400.0
_VERSIONS = {"TLSv1": 1, "TLSv1.1": 2, "TLSv1.2": 3, "TLSv1.3": 4}


def _day(posix: float) -> str:
    return datetime.datetime.fromtimestamp(posix, datetime.UTC).strftime("%Y-%m-%d")


def _days(seconds: float) -> str:
    days = abs(seconds) / _DAY
    shown = f"{days:.1f}" if days < 10 else f"{days:.0f}"
    return f"{shown} day" if shown == "1.0" else f"{shown} days"


class TlsExecutor(ProbeExecutor[TlsSpec]):
    """Runs ``tls`` checks on asyncio streams (no shared resources)."""

    type_name: ClassVar[str] = TYPE_NAME
    spec_model = TlsSpec

    async def _handshake(self, run: ProbeRun, spec: TlsSpec, verify: bool) -> StreamSession:
        run.context = "connecting"
        session = await StreamSession.connect(spec.host, spec.port, run.timings)
        run.context = session
        try:
            if spec.starttls is not None:
                await prepare_starttls(session, spec.starttls, "nyxmon.invalid")
            context = client_context(verify, spec.ca_file if verify else None)
            await session.start_tls(context, spec.server_name or spec.host)
        except BaseException:
            session.close()
            raise
        return session

    async def probe(self, run: ProbeRun, prepared: PreparedCheck[TlsSpec]) -> Result:
        spec = prepared.spec
        rejected: str | None = None
        try:
            session = await self._handshake(run, spec, spec.verify_tls)
        except SessionFailure as failure:
            if failure.rejected is None:
                run.details["connected"] = False
                return run.finish(failure.outcome, failure.message)
            rejected = failure.rejected
            try:
                session = await self._handshake(run, spec, False)
            except SessionFailure:
                return run.finish(Outcome.FAIL, failure.message)
        try:
            return self._judge(run, prepared, session, rejected)
        finally:
            session.close()

    def _judge(
        self,
        run: ProbeRun,
        prepared: PreparedCheck[TlsSpec],
        session: StreamSession,
        rejected: str | None,
    ) -> Result:
        spec = prepared.spec
        total = run.elapsed()
        run.timings["total"] = total
        obj = session.ssl_object
        der = session.certificate_der()
        if obj is None or der is None:
            return run.finish(Outcome.FAIL, f"{session.target} showed no certificate")
        try:
            info = read_certificate(der)
        except ValueError as exc:
            return run.finish(Outcome.FAIL, f"unreadable certificate from {session.target}: {exc}")
        version = obj.version() or "?"
        cipher = (obj.cipher() or ("?",))[0]
        left = info.not_after - time.time()
        server_name = spec.server_name or spec.host
        host_ok = matches_host(info, server_name)
        self._describe(
            run, session, info, version, cipher, left, host_ok, rejected, spec.verify_tls
        )
        problems = self._problems(spec, info, version, left, rejected)
        observation = Observation(
            response_time_ms=total * 1000,
            connected=True,
            certificate_expiration=left,
            ips=(session.ip,) if session.ip else (),
        )
        failed = [o.description for o in evaluate_all(prepared.conditions, observation) if not o.ok]
        if failed:
            run.details["failed_conditions"] = failed
            problems.extend(failed)
        if problems:
            return run.finish(Outcome.FAIL, "; ".join(problems))
        message = (
            f"{version} {cipher}, certificate valid {_days(left)} more "
            f"(until {_day(info.not_after)})"
        )
        if spec.warn_days is not None and left < spec.warn_days * _DAY:
            return run.finish(
                Outcome.OK,
                f"certificate expires in {_days(left)} (warning at {spec.warn_days} days); "
                f"{version} {cipher}",
                degraded=True,
            )
        return run.finish(Outcome.OK, message)

    @staticmethod
    def _describe(
        run: ProbeRun,
        session: StreamSession,
        info: CertificateInfo,
        version: str,
        cipher: str,
        left: float,
        host_ok: bool,
        rejected: str | None,
        verified: bool,
    ) -> None:
        details = run.details
        details["connected"] = True
        if session.ip:
            details["ip"] = session.ip
        details["tls_version"] = version
        details["cipher"] = cipher
        details["subject"] = info.subject
        details["issuer"] = info.issuer
        details["names"] = info.names[:20]
        details["cert_expires_at"] = info.not_after
        details["cert_days_left"] = round(left / _DAY, 2)
        details["hostname_match"] = host_ok
        if rejected is not None:
            details["chain_valid"] = False
            details["rejected"] = rejected
        elif verified:
            details["chain_valid"] = True

    @staticmethod
    def _problems(
        spec: TlsSpec, info: CertificateInfo, version: str, left: float, rejected: str | None
    ) -> list[str]:
        problems: list[str] = []
        if left <= 0:
            problems.append(f"certificate expired {_days(left)} ago ({_day(info.not_after)})")
        elif info.not_before > time.time():
            problems.append(f"certificate not valid before {_day(info.not_before)}")
        if rejected is not None and not (left <= 0 and "expired" in rejected):
            names = ", ".join(info.names[:5]) or "no names"
            problems.append(f"certificate rejected: {rejected} (issued for {names})")
        wanted = spec.min_version
        if wanted is not None and _VERSIONS.get(version, 0) < _VERSIONS[wanted]:
            problems.append(f"negotiated {version}, expected at least {wanted}")
        return problems

    def on_timeout(self, run: ProbeRun) -> str:
        where = run.context
        if isinstance(where, StreamSession):
            return f"no answer from {where.target} within {run.check.timeout:g} s ({where.stage})"
        return f"no answer within {run.check.timeout:g} s (connecting)"


def create_executor(resources: SharedResources) -> TlsExecutor:
    """Registry factory: TLS probes need no shared resources."""
    return TlsExecutor()
