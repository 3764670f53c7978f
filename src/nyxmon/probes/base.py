"""What every probe implements, and the bookkeeping they share.

An executor runs one check and always returns a :class:`~nyxmon.domain.model.Result`: a target
that is down, slow or misconfigured is an observation, not an exception. :class:`ProbeExecutor`
does the common parts once (parsing the check's params into the type's spec and compiling its
conditions, cached per check; enforcing the check's timeout; turning a bug into an error
result) so each probe type only writes the part that talks to the network.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, TypeVar, runtime_checkable

import anyio
from pydantic import BaseModel, ValidationError

from nyxmon.domain.conditions import Condition, compile_condition
from nyxmon.domain.model import Check, Outcome, Result
from nyxmon.domain.redaction import redact
from nyxmon.errors import ConditionSyntaxError
from nyxmon.probes.deadlines import Deadlines

__all__ = [
    "Executor",
    "PreparedCheck",
    "ProbeExecutor",
    "ProbeRun",
    "format_validation_error",
    "on_asyncio",
    "os_error_reason",
]

logger = logging.getLogger(__name__)

SpecT = TypeVar("SpecT", bound=BaseModel)

_CACHE_LIMIT = 100_000


@runtime_checkable
class Executor(Protocol):
    """Runs checks of one type. ``execute`` never raises for a probe failure."""

    async def execute(self, check: Check, scheduled_at: float) -> Result:
        """Probe once and describe what happened; fail/error/timeout are outcomes, not raises."""
        ...

    async def aclose(self) -> None:
        """Release what the executor holds; called once when its registry closes."""
        ...


@dataclass(frozen=True, slots=True)
class PreparedCheck(Generic[SpecT]):
    """A check's params parsed into its spec and its conditions compiled, kept between runs."""

    params: Mapping[str, Any]
    condition_texts: tuple[str, ...]
    spec: SpecT
    conditions: tuple[Condition, ...]


class _ConfigProblem(Exception):
    """The check's params or conditions are invalid; becomes an error result."""


@dataclass(slots=True)
class ProbeRun:
    """One run of one check in progress: clocks, phase timings and details gathered so far.

    ``context`` is the executor's own state for the run (the HTTP probe's request timings).

    Timings are seconds from :func:`time.perf_counter`; whatever a probe recorded before a
    timeout still lands in the timeout result, which is what makes a timeout diagnosable.
    """

    check: Check
    scheduled_at: float
    started_at: float = field(default_factory=time.time)
    start: float = field(default_factory=time.perf_counter)
    timings: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    context: Any = None

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def finish(self, outcome: Outcome, message: str = "", *, degraded: bool = False) -> Result:
        duration = self.elapsed()
        self.timings.setdefault("total", duration)
        return Result(
            check_id=self.check.id,
            scheduled_at=self.scheduled_at,
            started_at=self.started_at,
            duration=duration,
            outcome=outcome,
            message=redact(message),  # an error may quote a URL with its credentials
            timings=self.timings,
            details=self.details,
            degraded=degraded,
        )


def os_error_reason(error: OSError) -> str:
    """``Connection refused`` rather than asyncio's ``Connect call failed ('127.0.0.1', 1)``."""
    if error.errno and not isinstance(error, socket.gaierror):
        return os.strerror(error.errno)
    return error.strerror or str(error)


def on_asyncio() -> bool:
    """Whether the running loop is asyncio's (uvloop included), where asyncio's own timeouts
    are cheaper than anyio's."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def format_validation_error(exc: ValidationError) -> str:
    """Pydantic's errors as ``field.path: why`` pairs on one line."""
    parts = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error["loc"]) or "params"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)


def _current_task() -> asyncio.Task[Any] | None:
    """The running asyncio task (uvloop included), or None under another anyio backend."""
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


def _cancel(task: asyncio.Task[Any]) -> None:
    """The check's timeout is up: cancel the run's task (``execute`` takes it back)."""
    task.cancel()


class ProbeExecutor(Generic[SpecT]):
    """Shared skeleton of the built-in executors; subclasses implement :meth:`probe`.

    ``execute`` parses params once per check (re-parsing only when the check's params or
    conditions change), runs :meth:`probe` under the check's timeout, and converts any
    unexpected exception into an error result so one bad probe never breaks a batch.
    """

    type_name: ClassVar[str]
    spec_model: type[SpecT]
    #: ``execute`` ends every run by the check's timeout (the runner adds no timer of its own).
    enforces_timeout: ClassVar[bool] = True
    #: The runs' timeouts, on the loop they run on (made by the first run).
    _deadlines: Deadlines | None = None

    def __init__(self) -> None:
        self._prepared: dict[str, PreparedCheck[SpecT]] = {}

    async def execute(self, check: Check, scheduled_at: float) -> Result:
        run = ProbeRun(check, scheduled_at)
        try:
            prepared = self.prepare(check)
        except _ConfigProblem as problem:
            return run.finish(Outcome.ERROR, str(problem))
        try:
            if self.ends_in_time(check, prepared):
                return await self.probe(run, prepared)
            task = _current_task()
            if task is not None:
                # One alarm that cancels the task, and the cancellation taken back if it was
                # ours: what asyncio.timeout does, for a fraction of its cost (and an anyio
                # cancel scope costs several times more); at 1,000+ probes/s it shows. The
                # alarms of all runs share one loop timer (see nyxmon.probes.deadlines).
                # An alarm no longer live before it is cleared is one that went off.
                cancelling = task.cancelling()
                deadlines = self.deadlines(task.get_loop())
                alarm = deadlines.set(check.timeout, _cancel, task)
                try:
                    result = await self.probe(run, prepared)
                except asyncio.CancelledError:
                    if alarm.live or task.uncancel() > cancelling:
                        raise
                else:
                    if not alarm.live:  # the probe returned anyway: no cancel left pending
                        task.uncancel()
                    return result
                finally:
                    deadlines.clear(alarm)
            else:
                with anyio.move_on_after(check.timeout):
                    return await self.probe(run, prepared)
        except Exception as exc:  # a bug in a probe must not take the batch down with it
            logger.exception("%s probe of check %r crashed", self.type_name, check.id)
            return run.finish(Outcome.ERROR, f"internal error: {type(exc).__name__}: {exc}")
        return run.finish(Outcome.TIMEOUT, self.on_timeout(run))

    def deadlines(self, loop: asyncio.AbstractEventLoop) -> Deadlines:
        """The executor's alarms on ``loop`` (the runs' timeouts and any waits of a probe's
        own that should cost no loop timer each)."""
        deadlines = self._deadlines
        if deadlines is None or deadlines.loop is not loop:
            deadlines = self._deadlines = Deadlines(loop)
        return deadlines

    def ends_in_time(self, check: Check, prepared: PreparedCheck[SpecT]) -> bool:
        """Whether :meth:`probe` ends by the check's timeout on its own (it waits only with
        deadlines derived from it), so ``execute`` may skip its timer: a cheap probe such as
        a ping costs little more than that timer. False unless a probe knows better."""
        return False

    def on_timeout(self, run: ProbeRun) -> str:
        """The timeout result's message; subclasses add where the probe was stuck and may
        copy the timings they gathered into ``run.timings``."""
        return f"no answer within {run.check.timeout:g} s"

    async def probe(self, run: ProbeRun, prepared: PreparedCheck[SpecT]) -> Result:
        """Probe the target once and return ``run.finish(...)``; cancelled on timeout."""
        raise NotImplementedError

    async def aclose(self) -> None:
        self._prepared.clear()

    def prepare(self, check: Check) -> PreparedCheck[SpecT]:
        """The check's spec and compiled conditions, from cache when nothing changed."""
        cached = self._prepared.get(check.id)
        if cached is not None and (
            (cached.params is check.params or cached.params == check.params)
            and cached.condition_texts == check.conditions
        ):
            return cached
        try:
            spec = self.spec_model.model_validate(dict(check.params))
        except ValidationError as exc:
            raise _ConfigProblem(
                f"check {check.id!r}: invalid {self.type_name} params: "
                f"{format_validation_error(exc)}"
            ) from None
        try:
            conditions = tuple(compile_condition(text) for text in check.conditions)
        except ConditionSyntaxError as exc:
            raise _ConfigProblem(f"check {check.id!r}: {exc}") from None
        prepared = PreparedCheck(check.params, check.conditions, spec, conditions)
        if len(self._prepared) >= _CACHE_LIMIT:
            self._prepared.clear()
        self._prepared[check.id] = prepared
        return prepared
