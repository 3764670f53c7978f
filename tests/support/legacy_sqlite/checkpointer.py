"""WAL checkpoints on a thread of their own, off the writer's commit path.

Left to SQLite, the commit that pushes the WAL past 1,000 pages syncs the WAL, copies it back
into the database file and syncs that, inside the agent's write: measured here, that turned a
3 ms batch into 40-330 ms every few batches. So the writer's automatic checkpoint is raised to
a safety net (``WRITER_AUTOCHECKPOINT_PAGES``) and this thread checkpoints on its own
connection every ``interval`` seconds in which the WAL was written, in two phases:

1. PASSIVE, without the write gate: syncs and copies the bulk while the writer keeps appending.
2. If writes arrived meanwhile and the WAL holds more than ``GATED_AFTER_FRAMES``, PASSIVE
   again holding the gate as background work (the agent's writes go first): only the frames
   of phase 1's duration are left, so it is short, and it completes, which lets the next write
   restart the WAL from the top. Without it the WAL never stops growing while something
   writes back to back, until the safety net fires inside a commit. Below the threshold it is
   skipped: a later phase 1 with no write during it completes just as well, and phase 2 ends
   in an fsync the agent's writer would wait for.

The cleaner and the rollups call :meth:`Checkpointer.checkpoint_now` after each step that
wrote: deleting 2,000 rows dirties hundreds of pages, and a cleaner chewing a backlog back to
back produced WAL faster (160 MB/s here) than a timer can copy it, until the safety net fired
inside its commits. Checkpointing in the step that wrote paces background work to the disk.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from tests.support.legacy_sqlite.write_gate import WriteGate

__all__ = ["GATED_AFTER_FRAMES", "WRITER_AUTOCHECKPOINT_PAGES", "CheckpointStats", "Checkpointer"]

log = logging.getLogger(__name__)

#: The writer checkpoints itself only if this thread falls this far behind (80 MB at 4 KB).
WRITER_AUTOCHECKPOINT_PAGES = 20_000
#: WAL frames (16 MB at 4 KB pages) past which phase 2 takes the gate to complete a checkpoint.
GATED_AFTER_FRAMES = 4_096


@dataclass(frozen=True, slots=True)
class CheckpointStats:
    runs: int
    incomplete: int
    failures: int


class Checkpointer:
    """A daemon thread checkpointing ``path``'s WAL; ``stop()`` joins it."""

    def __init__(
        self,
        path: Path,
        gate: WriteGate,
        *,
        interval: float = 0.25,
        busy_timeout: float = 10.0,
    ) -> None:
        self._path = path
        self._gate = gate
        self._wal = Path(f"{path}-wal")
        self._interval = interval
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        self._runs = self._incomplete = self._failures = 0
        self._thread = threading.Thread(
            target=self._run, name=f"nyxmon-checkpoint:{path.name}", daemon=True
        )
        self._thread.start()

    def statistics(self) -> CheckpointStats:
        return CheckpointStats(self._runs, self._incomplete, self._failures)

    def _passive(self) -> tuple[bool, int]:
        """One PASSIVE checkpoint: whether every frame is now in the database, and the frames."""
        busy, frames, done = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return (not busy and frames == done), int(frames)

    def checkpoint_now(self) -> bool:
        """Phase 1 and, if needed, phase 2 from the calling thread; True if it completed."""
        with self._lock:
            self._runs += 1
            complete, frames = self._passive()
            if complete or frames < GATED_AFTER_FRAMES:
                return complete
            with self._gate.held(urgent=False):
                complete, _ = self._passive()
            if not complete:
                self._incomplete += 1
            return complete

    def _wal_written_at(self) -> int:
        # The WAL keeps its size when it restarts from the top, so its mtime is the signal.
        try:
            return os.stat(self._wal).st_mtime_ns
        except FileNotFoundError:
            return 0

    def _run(self) -> None:
        seen = self._wal_written_at()
        while not self._stop.wait(self._interval):
            written = self._wal_written_at()
            if written == seen:
                continue
            seen = written
            try:
                self.checkpoint_now()
            except sqlite3.Error as exc:
                # Never fatal: the writer's own automatic checkpoint is the safety net.
                self._failures += 1
                log.warning("WAL checkpoint of %s failed: %s", self._path, exc)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        with self._lock:
            self._conn.close()
