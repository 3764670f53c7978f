"""The skeleton the database and broker probes share: connect, log in, ask, judge.

Each run opens a fresh connection and closes it before it ends, on purpose: a monitor that
reused a pooled connection would report a server as up while new clients cannot connect or
log in. Nothing heavy lives between runs but the parsed params. A type writes only
:meth:`EndpointExecutor.session` (talk to the server, return the query's first value) and
raises :class:`ProbeFailure` for what the server refused; this module turns that, refusals
and timeouts into results whose messages name the server and the phase, never the password.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from nyxmon.checktypes.endpoint import EndpointSpec
from nyxmon.domain.conditions import Missing, Observation, evaluate_all, render, truncate
from nyxmon.domain.model import Outcome, Result
from nyxmon.probes.base import PreparedCheck, ProbeExecutor, ProbeRun, os_error_reason

__all__ = ["NO_QUERY", "NO_ROWS", "EndpointExecutor", "ProbeFailure", "first_value", "scrub"]

SpecT = TypeVar("SpecT", bound=EndpointSpec)

#: ``[VALUE]`` of a run whose check has no query of its own.
NO_QUERY = Missing("the check has no query")
#: ``[VALUE]`` of a query that returned no rows.
NO_ROWS = Missing("the query returned no rows")
_SHOWN_VALUE = 200


def first_value(row: Sequence[Any] | None) -> Any:
    """The first column of a query's first row as conditions compare it: numbers stay
    numbers (a ``Decimal`` too), bytes become text, anything else its text."""
    if row is None or len(row) == 0:
        return NO_ROWS
    value = row[0]
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


class ProbeFailure(Exception):
    """The server answered, but not as a healthy one does (login refused, the query failed);
    ``outcome`` is FAIL unless the answer means no conversation was possible (ERROR)."""

    def __init__(self, message: str, outcome: Outcome = Outcome.FAIL) -> None:
        super().__init__(message)
        self.message = message
        self.outcome = outcome


def scrub(text: str, secrets: frozenset[str]) -> str:
    """``text`` without any of ``secrets``: client libraries may quote what they were given."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 3:
            text = text.replace(secret, "***")
    return text


class EndpointExecutor(ProbeExecutor[SpecT]):
    """Runs :meth:`session` once per run and judges the outcome by the check's conditions."""

    default_port: ClassVar[int]

    async def session(self, run: ProbeRun, spec: SpecT) -> Any:
        """Connect, log in, ping or run the check's query; return the query's first value (or
        :data:`NO_QUERY`). Set ``run.context`` to the phase (``"logging in"``) as it goes, and
        record ``run.timings``; raise :class:`ProbeFailure` for a refusal."""
        raise NotImplementedError

    def where(self, spec: SpecT) -> str:
        return f"{spec.host}:{getattr(spec, 'port', self.default_port)}"

    async def probe(self, run: ProbeRun, prepared: PreparedCheck[SpecT]) -> Result:
        spec = prepared.spec
        where = self.where(spec)
        run.details["server"] = where
        run.context = "connecting"
        try:
            value = await self.session(run, spec)
        except ProbeFailure as failure:
            return run.finish(failure.outcome, scrub(failure.message, spec.secrets()))
        except OSError as exc:
            reason = scrub(os_error_reason(exc), spec.secrets())
            return run.finish(Outcome.ERROR, f"{self.type_name} {where}: {reason}")
        total = run.elapsed()
        run.timings["total"] = total
        if not isinstance(value, Missing):
            run.details["value"] = scrub(truncate(render(value), _SHOWN_VALUE), spec.secrets())
        observation = Observation(response_time_ms=total * 1000, connected=True, value=value)
        failed = [o.description for o in evaluate_all(prepared.conditions, observation) if not o.ok]
        if failed:
            run.details["failed_conditions"] = failed
            return run.finish(Outcome.FAIL, scrub("; ".join(failed), spec.secrets()))
        message = f"{self.type_name} {where} answered in {total * 1000:.0f} ms"
        if not isinstance(value, Missing):
            message += f", value {truncate(render(value), 60)}"
        slow = getattr(spec, "max_response_time", None)
        if slow is not None and total > slow:
            return run.finish(
                Outcome.OK,
                scrub(f"{message}, slower than {slow * 1000:.0f} ms", spec.secrets()),
                degraded=True,
            )
        return run.finish(Outcome.OK, scrub(message, spec.secrets()))

    def on_timeout(self, run: ProbeRun) -> str:
        where = run.details.get("server", self.type_name)
        phase = run.context if isinstance(run.context, str) else "connecting"
        return f"no answer from {self.type_name} {where} within {run.check.timeout:g} s ({phase})"
