"""Listening to the agents' change notices on PostgreSQL, reconnecting when the server goes.

One connection of its own (psycopg 3, async, autocommit) runs ``LISTEN`` on the schema's
channel (:mod:`nyxmon.store.postgres.change_notices`) and hands each notice's check ids to
``on_change`` (None: re-read them all). Each time it is listening again (the first time, and
after every reconnect) it calls ``on_listening`` *after* the ``LISTEN`` took effect, so a full
re-read from there misses nothing: what changed while it was away is in that read, what
changes from then on is notified.

A server that went away is noticed by the read failing (a restart, ``pg_terminate_backend``)
or, for a link that died silently, by a ``SELECT 1`` every ``probe_every`` seconds without a
notice; then it tries again with exponential backoff (``backoff`` to ``backoff_max``), saying
why in ``last_error`` meanwhile (``/healthz`` shows it).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg import sql

from nyxmon.store.postgres.change_notices import CHANNEL_SQL, parse_payload
from nyxmon.store.postgres.connections import redact_dsn

__all__ = ["ChangeListener", "ListenerStatistics"]

log = logging.getLogger(__name__)

#: How the listening session shows in ``pg_stat_activity`` (tests end it by this name).
APPLICATION_NAME = "nyxmon-web-listen"


@dataclass(frozen=True, slots=True)
class ListenerStatistics:
    listening: bool
    channel: str
    #: The listening session's server process (``pg_stat_activity.pid``), while connected.
    backend_pid: int | None
    notices: int
    connects: int
    failures: int
    last_error: str | None
    down_since: float | None


class ChangeListener:
    """``await listener.run()`` until cancelled; ``listening`` says whether it hears now."""

    def __init__(
        self,
        dsn: str,
        on_change: Callable[[frozenset[str] | None], None],
        on_listening: Callable[[], None],
        *,
        backoff: float = 0.5,
        backoff_max: float = 15.0,
        probe_every: float = 30.0,
    ) -> None:
        self._dsn = dsn
        self._on_change = on_change
        self._on_listening = on_listening
        self._backoff = backoff
        self._backoff_max = backoff_max
        self._probe_every = probe_every
        self.listening = False
        #: Bumped at each successful LISTEN: a re-read begun after it saw everything before.
        self.generation = 0
        self.channel = ""
        self.backend_pid: int | None = None
        self.notices = 0
        self.failures = 0
        self.last_error: str | None = "not connected yet"
        self.down_since: float | None = time.time()

    def statistics(self) -> ListenerStatistics:
        return ListenerStatistics(
            self.listening,
            self.channel,
            self.backend_pid,
            self.notices,
            self.generation,
            self.failures,
            self.last_error,
            self.down_since,
        )

    async def run(self) -> None:
        delay = self._backoff
        while True:
            before = self.generation
            try:
                await self._listen()
            except (psycopg.Error, OSError, TimeoutError) as exc:
                self._went_down(str(exc).strip() or type(exc).__name__)
            if self.generation != before:
                delay = self._backoff  # it was listening: start the backoff again
            log.warning(
                "not listening for changes on %s (%s); trying again in %.1f s",
                redact_dsn(self._dsn),
                self.last_error,
                delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._backoff_max)

    async def _listen(self) -> None:
        conn = await psycopg.AsyncConnection.connect(
            self._dsn,
            autocommit=True,
            application_name=APPLICATION_NAME,
            connect_timeout=10,
            # A peer gone without a word is found by TCP too, not only by our SELECT 1.
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=3,
        )
        async with conn:
            row = await (await conn.execute(f"SELECT {CHANNEL_SQL}, pg_backend_pid()")).fetchone()
            assert row is not None
            self.channel, self.backend_pid = str(row[0]), int(row[1])
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            self.generation += 1
            self.listening = True
            self.last_error = None
            self.down_since = None
            log.info("listening for changes on %s (%s)", redact_dsn(self._dsn), self.channel)
            self._on_listening()
            while True:
                async for notice in conn.notifies(timeout=self._probe_every):
                    self.notices += 1
                    self._on_change(parse_payload(notice.payload))
                async with asyncio.timeout(10.0):
                    await conn.execute("SELECT 1")

    def _went_down(self, why: str) -> None:
        self.failures += 1
        self.listening = False
        self.backend_pid = None
        self.last_error = why
        if self.down_since is None:
            self.down_since = time.time()
