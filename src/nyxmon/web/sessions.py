"""Sign-in sessions kept server-side, so they end when someone says so, at once.

The session cookie holds a random token (32 bytes); the store keeps only its SHA-256 with the
user, when it began, when it was last used and when it is over (:class:`SessionRecord`). A
session ends when its user signs out, signs out everywhere (the account page, ``nyxmon user
sign-out``), gets a new password (``nyxmon user set-password``, which may run in another
process while the web plane serves), or when it expires: ``max_age`` after signing in at the
latest, ``idle`` after its last use at the latest. The agent's cleaner deletes expired rows.

Ending sessions advances a counter in the store in the same transaction
(:meth:`~nyxmon.service_layer.storage.StoreReader.session_revocations`). Every request reads
that counter, one row, through a :class:`~nyxmon.web.fresh_read.FreshRead` (one read serves all
concurrent requests, and began after each of them arrived); a counter that moved empties the
cache of sessions. So a session check costs a dictionary lookup plus a share of one small read,
and an ended session is refused from the first request after the ending committed, whichever
process ended it. Store calls block: callers run ``*_blocking`` methods in a worker thread.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from nyxmon.service_layer.records.accounts import SessionRecord
from nyxmon.service_layer.storage import Store
from nyxmon.web.fresh_read import FreshRead

__all__ = ["Sessions", "hash_session_token"]

# An unknown token stays unknown (new sessions get new random tokens, and this process adds
# the ones it creates): caching "no such session" briefly spares the store a guessing run.
_MISS_SECONDS = 5.0
_MAX_CACHED = 10_000
_TOUCH_AT_MOST_EVERY = 60.0
_MAX_USER_AGENT = 200


def hash_session_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class Sessions:
    """The web plane's sessions; safe to use from the web loop and its worker threads."""

    def __init__(
        self,
        store: Store,
        *,
        max_age: float,
        idle: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_age <= 0 or idle <= 0:
            raise ValueError(f"session max_age and idle must be > 0, got {max_age}, {idle}")
        self.store = store
        self.max_age = max_age
        self.idle = idle
        self.clock = clock
        # Each use moves the idle end; writing it at most this often keeps writes rare while
        # the stored end stays within a quarter of the idle limit of the real one.
        self.touch_every = min(_TOUCH_AT_MOST_EVERY, idle / 4)
        self._cache: dict[str, tuple[float, SessionRecord | None]] = {}
        self._revocations = -1  # the count the cached sessions were read under
        self._lock = threading.Lock()
        self.revocation_reads: FreshRead[int] = FreshRead()

    # -- reading ---------------------------------------------------------------------------------
    def revocations_blocking(self) -> int:
        """The store's count of ended sessions (read it through :attr:`revocation_reads`)."""
        return self.store.session_revocations()

    def cached(self, raw: str, revocations: int) -> tuple[bool, SessionRecord | None]:
        """``(found in the cache, the session or None)`` given the count read for this request;
        a miss needs :meth:`load_blocking`."""
        with self._lock:
            if revocations > self._revocations:
                self._cache.clear()  # some session ended: which one, the store says
                self._revocations = revocations
                return False, None
            if revocations < self._revocations:
                return False, None  # read before a newer request's: ask the store
            hit = self._cache.get(hash_session_token(raw))
        if hit is None or (hit[1] is None and self.clock() - hit[0] > _MISS_SECONDS):
            return False, None
        return True, hit[1]

    def load_blocking(self, raw: str, revocations: int) -> SessionRecord | None:
        """The session from the store, cached under the count read before this lookup: an
        ending committed after that count was read moves it, so the entry is dropped."""
        digest = hash_session_token(raw)
        record = self.store.find_session(digest)
        self._remember(digest, record, revocations)
        return record

    def _remember(self, digest: str, record: SessionRecord | None, revocations: int) -> None:
        with self._lock:
            if revocations == self._revocations:
                if len(self._cache) > _MAX_CACHED:
                    self._cache.clear()
                self._cache[digest] = (self.clock(), record)

    def live(self, record: SessionRecord) -> bool:
        return record.expires_at > self.clock()

    def list_blocking(self, user: str) -> tuple[SessionRecord, ...]:
        """The user's sessions that have not expired, newest first."""
        now = self.clock()
        return tuple(s for s in self.store.list_sessions(user) if s.expires_at > now)

    # -- using -----------------------------------------------------------------------------------
    def needs_touch(self, record: SessionRecord) -> SessionRecord | None:
        """The session with its use recorded, if that is worth writing now (then hand it to
        :meth:`touch_blocking`); the cache has it already, so concurrent requests do not
        write it again."""
        now = self.clock()
        if now - record.last_seen_at < self.touch_every:
            return None
        touched = replace(record, last_seen_at=now, expires_at=min(record.ends_at, now + self.idle))
        with self._lock:
            if record.token_hash in self._cache:
                self._cache[record.token_hash] = (now, touched)
        return touched

    def touch_blocking(self, record: SessionRecord) -> None:
        with self.store.transaction() as tx:
            tx.auth.touch_session(record.token_hash, record.last_seen_at, record.expires_at)
            tx.commit()

    # -- beginning and ending ----------------------------------------------------------------
    def start_blocking(
        self, user: str, *, client: str = "", user_agent: str = ""
    ) -> tuple[str, SessionRecord]:
        """A new session for ``user``: ``(the cookie's token, its record)``; the token is
        never stored."""
        raw = secrets.token_urlsafe(32)
        now = self.clock()
        ends = now + self.max_age
        record = SessionRecord(
            token_hash=hash_session_token(raw),
            user=user,
            created_at=now,
            last_seen_at=now,
            ends_at=ends,
            expires_at=min(ends, now + self.idle),
            client=client[:64],
            user_agent=user_agent[:_MAX_USER_AGENT],
        )
        with self.store.transaction() as tx:
            tx.auth.create_session(record)
            tx.commit()
        return raw, record

    def end_blocking(self, token_hash: str) -> bool:
        """End one session (signing out); False if it had ended already."""
        with self.store.transaction() as tx:
            ended = tx.auth.end_session(token_hash)
            tx.commit()
        self._forget(lambda record: record.token_hash == token_hash)
        return ended

    def end_all_blocking(self, user: str) -> int:
        """End every session of ``user`` (signing out everywhere); how many there were."""
        with self.store.transaction() as tx:
            ended = tx.auth.end_sessions(user)
            tx.commit()
        self._forget(lambda record: record.user == user)
        return ended

    def _forget(self, which: Callable[[SessionRecord], bool]) -> None:
        """Drop ended sessions here at once (the moved count would drop them on the next
        request too; this also covers a request whose count was read just before)."""
        with self._lock:
            for digest, (_, record) in list(self._cache.items()):
                if record is not None and which(record):
                    del self._cache[digest]
