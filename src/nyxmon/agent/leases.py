"""The lease keeper: the agent's heartbeat and the checks it holds, when several agents
share one PostgreSQL database (DESIGN.md, "Growing past one machine").

Every third of a lease period it gives new checks lease rows and renews its own leases;
every second it heartbeats, gives up what it holds beyond its fair share (the checks' state
leases divided by the live agents, plus its location's probe leases divided by that
location's live agents, each rounded up), frees the leases it gave up once their state is
committed, claims leases nobody holds, up to that share, and hands the locations' views of
the located checks whose state it holds to their machines (:class:`CombineViews`). Lease
rows (and a silent agent's claim to life) last the lease period less four seconds
(:func:`~nyxmon.service_layer.storage.lease_row_seconds`), so a killed agent's checks are
taken, and probed, by the others within one lease period of its death.

What it decides reaches the application as :class:`~nyxmon.service_layer.messages.SetLeases`:
a check gained gets a machine resumed from the snapshot its previous owner saved (read after
the lease was won), a check lost (renewal found it gone, or renewals failed until the lease
ran out on this agent's own clock) stops being probed at once. It also hands a killed agent's
due notifications to the notifier, whose claims then decide who sends each.

Database calls are blocking; they run on worker threads.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread

from nyxmon.domain.locations import LocationView
from nyxmon.service_layer.messages import CombineViews, SetLeases
from nyxmon.service_layer.ownership import split_key
from nyxmon.service_layer.records.alerts import OutboxEntry
from nyxmon.service_layer.storage import Census, Membership, StoreReader, lease_row_seconds

__all__ = ["LeaseKeeper", "LeaseStatistics"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LeaseStatistics:
    held: int
    share: int
    live_agents: int
    gained: int
    lost: int
    given_up: int
    failures: int


class LeaseKeeper:
    """Keeps ``membership``'s leases; ``apply`` takes the SetLeases commands (awaitable)."""

    def __init__(
        self,
        membership: Membership,
        store: StoreReader,
        apply: Callable[[SetLeases | CombineViews], Awaitable[Any]],
        deliver: Callable[[Sequence[OutboxEntry]], None],
        *,
        claim_every: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._membership = membership
        self._leases = membership.leases
        self._store = store
        self._apply = apply
        self._deliver = deliver
        self._claim_every = claim_every
        self._round_every = membership.lease_seconds / 3
        self._clock = clock
        self._held: frozenset[str] = frozenset()
        self._share = 0
        self._total = Census(0, 0)
        self._live = Census(1, 1)
        self._valid_until = -math.inf
        self._saved_lock = threading.Lock()
        self._saved: set[str] = set()  # given up, state committed: free them in the database
        self._given_up: set[str] = set()  # given up, state not committed yet
        self._gained = self._lost = self._given_up_count = self._failures = 0

    @property
    def held(self) -> frozenset[str]:
        return self._held

    def statistics(self) -> LeaseStatistics:
        return LeaseStatistics(
            held=len(self._held),
            share=self._share,
            live_agents=self._live.here,
            gained=self._gained,
            lost=self._lost,
            given_up=self._given_up_count,
            failures=self._failures,
        )

    async def run(self) -> None:
        next_round = -math.inf
        while True:
            if self._clock() >= next_round:
                next_round = self._clock() + self._round_every
                await self._guarded(self._round)
            await self._guarded(self._claim)
            await anyio.sleep(self._claim_every)

    async def _guarded(self, step: Callable[[], Awaitable[None]]) -> None:
        try:
            await step()
        except Exception as exc:
            self._failures += 1
            log.warning("keeping the check leases failed: %s", exc)
            if self._held and self._clock() >= self._valid_until:
                log.error(
                    "the leases of %d checks ran out unrenewed; they stop here (other agents "
                    "take them)",
                    len(self._held),
                )
                self._lost += len(self._held)
                self._held = frozenset()
                await self._apply(SetLeases(frozenset()))

    async def _round(self) -> None:
        """Lease rows for new checks, renewal, and a killed agent's notices."""
        began = self._clock()
        self._total = await anyio.to_thread.run_sync(self._leases.sync)
        kept = await anyio.to_thread.run_sync(self._leases.renew)
        # Its rows last a little less than the period (the server counts from after `began`).
        self._valid_until = began + lease_row_seconds(self._membership.lease_seconds)
        self._share = self._total.share_of(self._live)
        lost = self._held - kept
        if lost:
            self._lost += len(lost)
            log.warning("%d check leases were lost; those checks stop here", len(lost))
            self._held = self._held & kept
            await self._apply(SetLeases(self._held))
        await self._take_over_notices()

    async def _claim(self) -> None:
        """Heartbeat; give up the excess over the share, free what was given up and saved,
        claim checks up to the share.

        Every second, not every round: once a dead agent's heartbeat is a lease period old the
        share of the others grows, and they claim its checks (whose leases ran out just as
        long after its last renewal) at once."""
        self._live = await anyio.to_thread.run_sync(self._membership.heartbeat)
        self._share = self._total.share_of(self._live)
        slack = self._share // 20  # a few checks more than the share stay put
        if len(self._held) > self._share + slack:
            excess = frozenset(sorted(self._held)[self._share :])
            self._given_up |= excess
            self._given_up_count += len(excess)
            self._held -= excess
            log.info("giving up %d checks to other agents (share %d)", len(excess), self._share)
            await self._apply(
                SetLeases(self._held, save_released=True, on_saved=self._saved_callback(excess))
            )
        with self._saved_lock:
            saved, self._saved = self._saved, set()
        if saved:
            await anyio.to_thread.run_sync(self._leases.release, saved)
            self._given_up -= saved
        room = self._share - len(self._held)
        if room > 0:
            await self._claim_more(room)
        await self._combine()

    async def _claim_more(self, room: int) -> None:
        claimed = await anyio.to_thread.run_sync(self._leases.claim, room)
        got = claimed.checks
        if not got:
            return
        states = await anyio.to_thread.run_sync(self._store.load_states)
        views = await anyio.to_thread.run_sync(self._stored_views, got)
        self._gained += len(got)
        self._held |= got
        log.info(
            "took %d checks (%d of them from an agent that stopped renewing; now %d, share %d)",
            len(got),
            len(claimed.taken_over),
            len(self._held),
            self._share,
        )
        await self._apply(
            SetLeases(
                self._held,
                {cid: states[cid] for cid in got if cid in states},
                run_now=claimed.taken_over,
                views=views,
                agent_id=self._membership.agent_id,
            )
        )

    def _stored_views(self, keys: frozenset[str]) -> dict[str, LocationView]:
        """The stored views of the probe leases among ``keys`` (this location's), so the
        views resume where the previous holder left them."""
        here = self._membership.location
        ids = [cid for cid, loc in map(split_key, keys) if loc is not None]
        if not ids:
            return {}
        found = self._store.location_views(ids)
        return {
            cid: view for cid, views in found.items() for view in views if view.location == here
        }

    async def _combine(self) -> None:
        """The views of the located checks whose state this agent holds, to their machines
        (every second: a view going stale is news too)."""
        if not self._held:
            return
        views = await anyio.to_thread.run_sync(self._leases.held_views)
        if views:
            stored = await anyio.to_thread.run_sync(self._store.latest_results, list(views))
            latest = {cid: found.result for cid, found in stored.items()}
            await self._apply(CombineViews(views, self._membership.lease_seconds, latest=latest))

    def _saved_callback(self, excess: frozenset[str]) -> Callable[[], None]:
        def saved() -> None:  # dispatcher thread, once the snapshots are committed
            with self._saved_lock:
                self._saved |= excess

        return saved

    async def _take_over_notices(self) -> None:
        """Due notifications no live agent holds (a killed agent's) go to this notifier; its
        claims decide whether this agent sends them. Only those due a lease period ago: a
        live owner sends its fresh ones itself, in order."""
        ids = await anyio.to_thread.run_sync(
            self._membership.notices.claimable, time.time() - self._membership.lease_seconds
        )
        if not ids:
            return
        wanted = set(ids)
        page = await anyio.to_thread.run_sync(
            lambda: self._store.outbox(status="pending", after_id=min(ids) - 1, limit=len(ids) * 4)
        )
        entries = [entry for entry in page if entry.id in wanted]
        if entries:
            log.info("taking over %d notifications of a stopped agent", len(entries))
            self._deliver(entries)
