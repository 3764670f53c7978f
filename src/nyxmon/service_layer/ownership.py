"""Which of the store's checks this agent runs: all of them, or those it holds leases on.

One agent on its store (SQLite) runs every check: it probes it and its alert machine decides.
Several agents on one PostgreSQL database share them by leases (:mod:`nyxmon.agent.leases`
keeps those), of two kinds, named by *lease keys*:

- ``check_id``: the check's *state* lease, held by one agent anywhere. Its holder runs the
  check's alert machine, so each check has exactly one writer of its state and one sender
  of its notices. A check without locations is probed by that same agent, as one agent does.
- ``check_id@location``: a *probe* lease of a check probed from locations, held by one agent
  of that location. Its holder probes the check and keeps that location's view of it
  (:mod:`nyxmon.domain.locations`); the state lease's holder combines the views.

The application keeps the last catalog it saw here, so that a change of leases or of the
catalog alone is enough to tell which checks to run and probe.
"""

from __future__ import annotations

from collections.abc import Iterable

from nyxmon.domain.model import Check

__all__ = ["Ownership", "lease_key", "split_key"]

_SEP = "@"  # never in a check id (letters, digits, '.', '_', '-')


def lease_key(check_id: str, location: str | None = None) -> str:
    """The key of a check's state lease (no location) or of its probe lease at ``location``."""
    return check_id if location is None else f"{check_id}{_SEP}{location}"


def split_key(key: str) -> tuple[str, str | None]:
    """The check id and location (None: the state lease) of a lease key."""
    check_id, sep, location = key.partition(_SEP)
    return (check_id, location) if sep else (check_id, None)


class Ownership:
    """``owned`` (lease keys) is None while this agent runs every check (alone on its store)."""

    __slots__ = ("catalog", "owned")

    def __init__(self) -> None:
        self.owned: frozenset[str] | None = None
        self.catalog: tuple[Check, ...] = ()

    def follow(self, catalog: Iterable[Check]) -> None:
        """Remember the store's live checks."""
        self.catalog = tuple(catalog)

    @property
    def shared(self) -> bool:
        """Whether this agent shares its store with others (it runs what it holds leases on)."""
        return self.owned is not None

    def combines(self, check: Check) -> bool:
        """Whether ``check``'s machine is fed its locations' combined verdict, not results."""
        return self.owned is not None and bool(check.locations)

    def mine(self) -> tuple[Check, ...]:
        """The checks whose alert machine this agent runs."""
        owned = self.owned
        if owned is None:
            return self.catalog
        return tuple(check for check in self.catalog if check.id in owned)

    def probed(self) -> dict[str, tuple[Check, str | None]]:
        """The checks this agent probes, by id, each with the location whose view it keeps
        (None: its results go to its machine, as with one agent)."""
        owned = self.owned
        if owned is None:
            return {check.id: (check, None) for check in self.catalog}
        here: dict[str, str] = {}
        for key in owned:
            check_id, location = split_key(key)
            if location is not None:
                here[check_id] = location
        found: dict[str, tuple[Check, str | None]] = {}
        for check in self.catalog:
            if check.locations:
                location = here.get(check.id)
                if location is not None and location in check.locations:
                    found[check.id] = (check, location)
            elif check.id in owned:
                found[check.id] = (check, None)
        return found
