"""The locations' views this agent keeps, and the combined verdicts it feeds machines.

Two sides of checks probed from several locations (:mod:`nyxmon.domain.locations`):

- as a *prober* (it holds a check's probe lease at its location), each result goes to that
  location's view instead of a machine; the view is staged with the result, one row per
  check and location, and resumes from the stored row when this agent takes the lease over;
- as the *combiner* (it holds the check's state lease), the views of every location, read
  from the store, are combined by quorum and fed to the check's alert machine as one
  result each time something new is known (a view's newer result, a view going stale or
  coming back), so the machine's notices, reminders, escalation and outbox work unchanged.

Used only on the dispatcher thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from nyxmon.domain.locations import Combined, LocationView
from nyxmon.domain.model import Check

__all__ = ["LocationViews"]

_FedKey = tuple[str, tuple[str, ...], tuple[str, ...], float | None, str]


class LocationViews:
    """What this agent holds of the locations' views: those it keeps, those it combined."""

    __slots__ = ("agent_id", "checks", "fed", "kept", "saved")

    def __init__(self) -> None:
        self.agent_id: int | None = None
        #: Check id -> the view this agent keeps of it (it probes it at the view's location).
        self.kept: dict[str, LocationView] = {}
        #: Check id -> the check, for each view kept.
        self.checks: dict[str, Check] = {}
        #: Views read from the store for probe leases just won, used once by :meth:`follow`.
        self.saved: dict[str, LocationView] = {}
        #: Check id -> what its machine was last fed, so each news is fed once.
        self.fed: dict[str, _FedKey] = {}

    def restore_some(self, views: Mapping[str, LocationView]) -> None:
        self.saved.update(views)

    def follow(self, probed: Mapping[str, tuple[Check, str]]) -> None:
        """Keep a view of each check probed here (check id -> check and location), resumed
        from the stored one when it is this location's; drop the others."""
        for check_id in [cid for cid in self.kept if cid not in probed]:
            del self.kept[check_id]
        self.checks = {cid: check for cid, (check, _) in probed.items()}
        for check_id, (_, location) in probed.items():
            view = self.kept.get(check_id)
            if view is not None and view.location == location:
                continue
            saved = self.saved.pop(check_id, None)
            if saved is not None and saved.location == location:
                self.kept[check_id] = saved
            else:
                self.kept[check_id] = LocationView(check_id, location)

    def forget_fed(self, check_ids: Iterable[str]) -> None:
        for check_id in check_ids:
            self.fed.pop(check_id, None)

    def is_news(self, check_id: str, combined: Combined) -> bool:
        """Whether ``combined`` tells the machine of ``check_id`` something new (and remember
        that it was told)."""
        key: _FedKey = (
            combined.state.value,
            combined.fresh,
            combined.stale,
            combined.latest,
            combined.message,
        )
        if self.fed.get(check_id) == key:
            return False
        self.fed[check_id] = key
        return True
