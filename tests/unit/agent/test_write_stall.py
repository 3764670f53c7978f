"""A database that stops answering (a write neither succeeds nor fails): the agent keeps at most
``max_pending`` results, counts what it drops, and its health says so after ``write_grace``,
then everything kept is written once the write comes back."""

from __future__ import annotations

from types import MappingProxyType

from nyxmon.agent.health import HealthMonitor, HealthThresholds
from nyxmon.domain.model import Check, Outcome, Result
from nyxmon.service_layer.application import Application
from nyxmon.service_layer.messages import AlertSettings, RecordResults, SyncChecks
from nyxmon.service_layer.ports import BatchDone, OpDone
from nyxmon.service_layer.records.batches import WriteBatch, WriteReceipt
from nyxmon.service_layer.unit_of_work import WriteOp

T0 = 1_750_000_000.0
HTTP = Check("web.home", "Web", "home", "http", 1.0, 1.0, MappingProxyType({"url": "http://x/"}))


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class HangingWriter:
    """Holds every batch until :meth:`answer` (as a database behind a dead link does)."""

    def __init__(self) -> None:
        self.pending: list[tuple[WriteBatch, BatchDone]] = []
        self.written: list[Result] = []

    def write(self, batch: WriteBatch, done: BatchDone) -> None:
        self.pending.append((batch, done))

    def run(self, op: WriteOp, done: OpDone) -> None:
        done(op.run(None), None)  # type: ignore[arg-type]

    def answer(self) -> None:
        while self.pending:
            batch, done = self.pending.pop(0)
            self.written.extend(batch.results)
            done(WriteReceipt(outbox_ids=tuple(range(len(batch.outbox)))), 0.001, None)


class _Probes:
    def set_checks(self, checks: tuple[Check, ...]) -> None:
        pass

    def run_after(self, check_id: str, delay: float) -> None:
        pass


class _Quiet:
    """The planes health reads besides the application, all well."""

    class _Lag:
        p99 = 0.0

    class _Stats:
        def __init__(self) -> None:
            self.loop_lag = self.lag = _Quiet._Lag()
            self.gave_up = self.pending = 0

    def statistics(self) -> _Quiet._Stats:
        return _Quiet._Stats()


def _result(n: int) -> Result:
    return Result("web.home", T0 + n, T0 + n, 0.01, Outcome.OK, "200 OK")


def test_a_write_never_answered_keeps_a_bounded_backlog_and_health_says_so() -> None:
    clock, writer = Clock(), HangingWriter()
    app = Application(
        writer=writer,
        deliveries=_Quiet(),  # type: ignore[arg-type]
        probes=_Probes(),
        publish=lambda status: None,
        settings=AlertSettings(routes=()),
        clock=clock,
        max_pending=50,
    )
    app.handle(SyncChecks((HTTP,)))
    app.end_of_batch()
    writer.answer()
    quiet = _Quiet()
    health = HealthMonitor(
        app,
        quiet,  # type: ignore[arg-type]
        quiet,  # type: ignore[arg-type]
        quiet,  # type: ignore[arg-type]
        thresholds=HealthThresholds(write_grace=10.0),
        clock=clock,
    )

    app.handle(RecordResults([_result(0)]))
    app.end_of_batch()  # handed to the writer, which never answers
    assert len(writer.pending) == 1
    for n in range(1, 121):
        clock.now = T0 + n
        app.handle(RecordResults([_result(n)]))
        app.end_of_batch()
        if n == 5:
            assert health.check(None).ready, "a write may take a while before it is a problem"
    stats = app.statistics()
    # 50 results, plus the check's state row and transition (never dropped).
    assert stats.staged <= 50 + 2, "the backlog is bounded while a write hangs"
    assert stats.results_dropped == 120 - 50
    verdict = health.check(None)
    assert not verdict.ready
    assert any("not been answered" in problem for problem in verdict.problems), verdict.problems
    assert any("results dropped" in problem for problem in verdict.problems), verdict.problems

    writer.answer()  # the link is back: the hung write returns, the rest follows
    app.end_of_batch()
    writer.answer()
    assert [r.started_at for r in writer.written[-51:]] == [T0 + n for n in [0, *range(71, 121)]]
    assert app.statistics().writing_since is None
    assert health.check(None).ready
