"""The live check views the dashboard reads, with the store's check list reused until it changes.

The shared :class:`~nyxmon.web.live.LiveView` joins the store's live checks with the agent's
status snapshot once per ``cache_seconds``. Reading 5,000 checks costs 100-200 ms of CPU
(measured: bench/dashboard.py), most of the web plane's CPU budget, while the list changes
only when someone edits a check. So the dashboard hands the live view a reader that asks the
store for its cheap ``checks_fingerprint()`` first and reads the list again only when that
changed; statuses are still fresh on every refresh.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Mapping

from fastapi import Request

from nyxmon.domain.model import Check
from nyxmon.store.base import Store
from nyxmon.store.records import CheckQuery
from nyxmon.web.deps import run_blocking, web_state
from nyxmon.web.live import CheckView

__all__ = ["CheckList", "page_views", "page_views_by_id"]

_ATTRIBUTE = "nyxmon_pages_check_list"


class CheckList:
    """The store's live checks, read again only when ``checks_fingerprint()`` changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fingerprint: tuple[object, ...] | None = None
        self._checks: tuple[Check, ...] = ()
        self.reads = 0

    def read(self, store: Store) -> tuple[Check, ...]:
        """Blocking. The fingerprint is taken before the list, so a change committed in
        between makes the next call read again rather than be missed."""
        fingerprint = store.checks_fingerprint()
        with self._lock:
            if fingerprint == self._fingerprint:
                return self._checks
        checks = store.list_checks(CheckQuery()).items
        with self._lock:
            self._fingerprint, self._checks = fingerprint, checks
            self.reads += 1
        return checks


def _check_list(request: Request) -> CheckList:
    holder = request.app.state
    found: CheckList | None = getattr(holder, _ATTRIBUTE, None)
    if found is None:
        found = CheckList()
        setattr(holder, _ATTRIBUTE, found)
    return found


def _reader(request: Request) -> Callable[[], Awaitable[tuple[Check, ...]]]:
    store = web_state(request).context.store
    check_list = _check_list(request)

    async def read_checks() -> tuple[Check, ...]:
        return await run_blocking(request, check_list.read, store)

    return read_checks


async def page_views(request: Request) -> tuple[CheckView, ...]:
    """Every live check with its status, from the shared live view."""
    return await web_state(request).live.checks(_reader(request))


async def page_views_by_id(request: Request) -> Mapping[str, CheckView]:
    return await web_state(request).live.by_id(_reader(request))
