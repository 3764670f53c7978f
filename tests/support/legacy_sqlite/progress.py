"""Where the rollup levels stand: read, compare-and-set.

The progress row of a level names the first period not completely rolled up
(``period_start``) and, inside it, the last check done (``after_check_pk``). Everything before
``period_start`` is rolled up, which is what the cleaner and the window reads rely on.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Literal

__all__ = ["Level", "Progress", "read_progress", "save_progress"]

Level = Literal["hourly", "daily"]


@dataclass(frozen=True, slots=True)
class Progress:
    period_start: float
    after_check_pk: int = 0


def read_progress(conn: sqlite3.Connection, level: Level) -> Progress | None:
    row = conn.execute(
        "SELECT period_start, after_check_pk FROM rollup_progress WHERE level = ?", (level,)
    ).fetchone()
    return Progress(float(row[0]), int(row[1])) if row else None


def save_progress(
    conn: sqlite3.Connection, level: Level, expected: Progress | None, new: Progress
) -> bool:
    """Move ``level`` from ``expected`` to ``new`` inside the caller's write transaction.

    False when someone else (another process running the same step) moved it first; the
    caller then rolls back so no period is counted twice.
    """
    if expected is None:
        cur = conn.execute(
            "INSERT INTO rollup_progress (level, period_start, after_check_pk) VALUES (?, ?, ?)"
            " ON CONFLICT (level) DO NOTHING",
            (level, new.period_start, new.after_check_pk),
        )
    else:
        cur = conn.execute(
            "UPDATE rollup_progress SET period_start = ?, after_check_pk = ?"
            " WHERE level = ? AND period_start = ? AND after_check_pk = ?",
            (
                new.period_start,
                new.after_check_pk,
                level,
                expected.period_start,
                expected.after_check_pk,
            ),
        )
    return cur.rowcount == 1
