"""Which of the store's checks this agent runs: all of them, or those it holds leases on.

One agent on its store (SQLite) runs every check. Several agents on one PostgreSQL database
share them by leases (:mod:`nyxmon.agent.leases` keeps those): each runs only the checks it
holds, so each check's alert machine has exactly one writer. The application keeps the last
catalog it saw here, so that a change of leases or of the catalog alone is enough to tell
which checks to run.
"""

from __future__ import annotations

from collections.abc import Iterable

from nyxmon.domain.model import Check

__all__ = ["Ownership"]


class Ownership:
    """``owned`` is None while this agent runs every check (the only agent on its store)."""

    __slots__ = ("catalog", "owned")

    def __init__(self) -> None:
        self.owned: frozenset[str] | None = None
        self.catalog: tuple[Check, ...] = ()

    def follow(self, catalog: Iterable[Check]) -> tuple[Check, ...]:
        """Remember the store's live checks; the ones this agent runs."""
        self.catalog = tuple(catalog)
        return self.mine()

    def mine(self) -> tuple[Check, ...]:
        owned = self.owned
        if owned is None:
            return self.catalog
        return tuple(check for check in self.catalog if check.id in owned)
