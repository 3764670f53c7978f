"""Stored results as the store hands them back: with ids, in keyset-paginated pages."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

from nyxmon.domain.model import Result

__all__ = ["ResultCursor", "ResultPage", "ResultPoint", "StoredResult"]


@dataclass(frozen=True, slots=True)
class StoredResult:
    """A result with the id the store assigned to it (stable, never reused)."""

    id: int
    result: Result


class ResultPoint(NamedTuple):
    """A result reduced to what a beats bar draws: when, how long, passed, degraded.

    The overview asks for 30 of these for each of up to 200 checks at once; building full
    results for that (messages, timings and details decoded) cost most of the read.
    """

    started_at: float
    duration: float
    ok: bool
    degraded: bool


@dataclass(frozen=True, slots=True, order=True)
class ResultCursor:
    """Where a newest-first page of results stopped: the (started_at, id) of its last item.

    Keyset pagination: the next page starts strictly after this key, so results written
    meanwhile never shift or repeat items the way an offset would.
    """

    started_at: float
    id: int

    def encode(self) -> str:
        """A string for URLs and JSON (``repr`` keeps every bit of the float)."""
        return f"{self.started_at!r}:{self.id}"

    @classmethod
    def decode(cls, token: str) -> ResultCursor:
        """Parse :meth:`encode` output; raises ``ValueError`` naming the bad token."""
        head, sep, tail = token.rpartition(":")
        try:
            started_at, result_id = float(head), int(tail)
        except ValueError:
            raise ValueError(
                f"invalid result cursor {token!r}: expected '<started_at>:<id>'"
            ) from None
        if not sep or not math.isfinite(started_at) or result_id < 0:
            raise ValueError(f"invalid result cursor {token!r}: expected '<started_at>:<id>'")
        return cls(started_at, result_id)


@dataclass(frozen=True, slots=True)
class ResultPage:
    """Results newest first; ``next_cursor`` is ``None`` on the last page."""

    items: tuple[StoredResult, ...]
    next_cursor: ResultCursor | None
