"""Crash safety: a writer killed with SIGKILL leaves a consistent database behind.

A child process writes batches and reports each commit on stdout; the test kills it (mid
transaction, or at a random moment while it writes flat out), reopens the file, and checks
that SQLite's integrity check passes, every reported batch is there and no half batch is.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nyxmon.store.sqlite import SqliteStore

BATCH = 50

_CHILD = textwrap.dedent(
    """
    import sys, time
    from nyxmon.domain.model import Check, CheckSource, Outcome, Result
    from nyxmon.service_layer.records.batches import WriteBatch
    from nyxmon.store.sqlite import SqliteStore

    path, mode = sys.argv[1], sys.argv[2]
    store = SqliteStore(path)
    with store.transaction() as tx:
        tx.checks.upsert(Check(id="a.one", service="a", name="one", type="http",
                                interval=1.0, timeout=1.0, source=CheckSource.API))
        tx.commit()

    def batch(n, marker=""):
        return [Result(check_id="a.one", scheduled_at=n * 100.0 + i, started_at=n * 100.0 + i,
                       duration=0.01, outcome=Outcome.OK, message=marker,
                       details={"pad": "x" * 200}) for i in range(BATCH)]

    BATCH = int(sys.argv[3])
    n = 0
    while True:
        ids = store.write_batch(WriteBatch(batch(n))).result_ids
        print(f"committed {ids[0]} {ids[-1]}", flush=True)
        n += 1
        if mode == "open-transaction" and n == 30:
            tx = store.transaction().__enter__()
            tx.results.add_many(batch(n, marker="uncommitted") * 20)
            print("open", flush=True)
            time.sleep(120)
    """
)


def _run_and_kill(path: Path, mode: str, kill_after_lines: int) -> list[tuple[int, int]]:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path), mode, str(BATCH)],
        stdout=subprocess.PIPE,
        text=True,
    )
    committed: list[tuple[int, int]] = []
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("committed"):
                _, first, last = line.split()
                committed.append((int(first), int(last)))
            if line.strip() == "open" or len(committed) >= kill_after_lines:
                break
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=20)
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    return committed


def _check_consistent(path: Path, committed: list[tuple[int, int]]) -> int:
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    ids = {r[0] for r in conn.execute("SELECT id FROM results")}
    conn.close()
    for first, last in committed:
        assert set(range(first, last + 1)) <= ids, f"committed batch {first}..{last} is missing"
    assert len(ids) % BATCH == 0, "a partial batch survived the crash"
    with SqliteStore(path) as store:
        assert store.count_results("a.one") == len(ids)
    return len(ids)


def test_kill_during_an_open_transaction_keeps_committed_batches_only(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    committed = _run_and_kill(path, "open-transaction", kill_after_lines=10_000)
    assert len(committed) == 30
    assert _check_consistent(path, committed) == 30 * BATCH
    conn = sqlite3.connect(path)
    assert conn.execute(
        "SELECT count(*) FROM results WHERE message = 'uncommitted'"
    ).fetchone() == (0,)
    conn.close()


@pytest.mark.parametrize("kill_after", [5, 37, 120])
def test_kill_at_a_random_moment_while_writing_flat_out(tmp_path: Path, kill_after: int) -> None:
    path = tmp_path / "crash.db"
    committed = _run_and_kill(path, "flat-out", kill_after_lines=kill_after)
    assert len(committed) == kill_after
    assert _check_consistent(path, committed) >= kill_after * BATCH
