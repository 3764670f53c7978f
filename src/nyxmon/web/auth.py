"""Who is calling: passwords (argon2id), API bearer tokens, the secret CSRF tokens are signed with.

- Passwords are argon2id hashes (argon2-cffi's defaults); an unknown user name costs a
  verification against a dummy hash too, so timing does not tell which names exist.
- Sessions are kept server-side (:mod:`nyxmon.web.sessions`); changing the password ends every
  session of the user. CSRF tokens are HMAC-SHA256 of the session under a secret generated
  once and kept in the store's settings.
- API tokens are ``nyx_`` + 32 random bytes; only their SHA-256 is stored.

Store reads here block, so :class:`AuthService` keeps caches the web loop can use directly and
callers run the misses in a worker thread (``*_blocking`` methods).

A revoked token is refused from the moment the revocation commits, whichever process revoked
it (``nyxmon token revoke`` writes the database from its own): every cached token carries the
store's revocation count (:meth:`~nyxmon.service_layer.storage.StoreReader.token_revocations`)
it was read under, and a request first reads that count, one row, through a
:class:`~nyxmon.web.fresh_read.FreshRead` that serves all concurrent requests with one read that
began after each of them arrived. A count that moved empties the cache. So a token check costs
a dictionary lookup plus a share of one small read, and is never stale.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from nyxmon.errors import ConfigError
from nyxmon.service_layer.records.accounts import TokenRecord, TokenScope, UserRecord
from nyxmon.service_layer.storage import Store
from nyxmon.web.fresh_read import FreshRead
from nyxmon.web.settings import WebSettings

__all__ = [
    "ADMIN_USER",
    "PASSWORD_ENV",
    "SESSION_COOKIE",
    "AuthService",
    "Principal",
    "hash_password",
    "hash_token",
    "new_token",
    "verify_password",
]

log = logging.getLogger(__name__)

ADMIN_USER = "admin"
PASSWORD_ENV = "NYXMON_ADMIN_PASSWORD"
SESSION_COOKIE = "nyxmon_session"
SECRET_KEY = "web.session_secret"
TOKEN_PREFIX = "nyx_"
MIN_PASSWORD = 8

# argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane) rather than the
# library's 64 MiB default: the agent hashes in its own process, and 64 MiB on every login or
# first start pushed a 5,000-check agent past its 150 MB memory budget (bench/agent_throughput).
# Hashes made with other parameters still verify; they carry their parameters.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# How long "no such token" is remembered.
_CACHE_SECONDS = 5.0
# Only a revocation ends a token, and the revocation count says when one happened; the limit
# merely bounds how long an entry lives without use in a cache cleared at 10,000 entries.
_TOKEN_CACHE_SECONDS = 300.0
_TOUCH_EVERY = 60.0


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"expected a password of at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; a missing user still costs one verification."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    """Hashed on first use, not at import: argon2 costs tens of milliseconds by design."""
    return _hasher.hash(secrets.token_hex(16))


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of a request: a signed-in user (cookie) or an API token's owner.

    ``session`` is the hash of a cookie caller's session token; ``scope`` is a token's
    (``read`` or ``admin``): a signed-in user may do everything."""

    user: str
    via: Literal["session", "token"]
    csrf_token: str | None = None
    token_id: int | None = None
    session: str | None = None
    scope: TokenScope = "admin"


class AuthService:
    """Users, sessions and tokens for one app; safe to use from the web loop and its workers."""

    def __init__(
        self, store: Store, settings: WebSettings, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self._secret: bytes | None = None
        self._tokens: dict[str, tuple[float, TokenRecord | None]] = {}
        self._revocations = -1  # the count the cached tokens were read under
        self._touched: dict[int, float] = {}
        self._lock = threading.Lock()
        self.revocation_reads: FreshRead[int] = FreshRead()

    # -- start-up -------------------------------------------------------------------------------
    def bootstrap(self, announce: Callable[[str], None]) -> None:
        """Create the session secret and, with no user yet, the admin (blocking, run once).

        The admin's password comes from ``settings.admin_password``, ``$NYXMON_ADMIN_PASSWORD``
        or ``web.admin_password_file``; otherwise one is generated and passed to ``announce``
        (printed once by ``nyxmon run``): it is never stored in clear anywhere.
        """
        secret = self.store.get_setting(SECRET_KEY)
        if secret is None:
            secret = secrets.token_hex(32)
            with self.store.transaction() as tx:
                tx.auth.set_setting(SECRET_KEY, secret)
                tx.commit()
            secret = self.store.get_setting(SECRET_KEY) or secret  # another writer may have won
        self._secret = bytes.fromhex(secret)
        if self.store.count_users():
            return
        password, source = self._initial_password()
        with self.store.transaction() as tx:
            tx.auth.put_user(ADMIN_USER, hash_password(password))
            tx.commit()
        if source == "generated":
            announce(
                f"admin password: {password}  (user {ADMIN_USER!r}; shown once, change it with "
                "`nyxmon user set-password admin`)"
            )
        else:
            announce(f"created user {ADMIN_USER!r} with the password from {source}")

    def _initial_password(self) -> tuple[str, str]:
        if self.settings.admin_password:
            return self._checked(self.settings.admin_password, "the settings"), "the settings"
        env = os.environ.get(PASSWORD_ENV)
        if env:
            return self._checked(env, f"${PASSWORD_ENV}"), f"${PASSWORD_ENV}"
        path = self.settings.admin_password_file
        if path:
            try:
                text = Path(path).read_text(encoding="utf-8").strip("\r\n")
            except OSError as exc:
                raise ConfigError(
                    f"web.admin_password_file: cannot read {path}: {exc.strerror or exc}"
                ) from None
            return self._checked(text, "web.admin_password_file"), str(path)
        return secrets.token_urlsafe(15), "generated"

    @staticmethod
    def _checked(password: str, source: str) -> str:
        if len(password) < MIN_PASSWORD:
            raise ConfigError(
                f"{source}: expected an admin password of at least {MIN_PASSWORD} characters, "
                f"got {len(password)}"
            )
        return password

    @property
    def secret(self) -> bytes:
        if self._secret is None:
            raise RuntimeError("AuthService.bootstrap() has not run")
        return self._secret

    def sign(self, purpose: str, value: str) -> str:
        """An HMAC of ``value`` for ``purpose`` (CSRF tokens, cookies), URL-safe."""
        digest = hmac.new(self.secret, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()
        return _b64(digest)

    # -- users ----------------------------------------------------------------------------------
    def load_user_blocking(self, name: str) -> UserRecord | None:
        return self.store.get_user(name)

    def check_password_blocking(self, name: str, password: str) -> bool:
        """Verify a login (argon2: tens of milliseconds of CPU, so never on the loop)."""
        user = self.store.get_user(name)
        return verify_password(user.password_hash if user else None, password)

    def set_password_blocking(self, name: str, password: str) -> None:
        """Set the password; the store ends every session of the user in the same commit."""
        digest = hash_password(password)
        with self.store.transaction() as tx:
            tx.auth.put_user(name, digest)
            tx.commit()

    # -- sessions -------------------------------------------------------------------------------
    def csrf_token(self, session: str) -> str:
        """The CSRF token of a session (given the hash of its token)."""
        return self.sign("csrf", session)

    # -- API tokens -----------------------------------------------------------------------------
    def revocations_blocking(self) -> int:
        """The store's revocation count (one row; read it through :attr:`revocation_reads`)."""
        return self.store.token_revocations()

    def cached_token(self, raw: str, revocations: int) -> tuple[bool, TokenRecord | None]:
        """``(found in the cache, the live token or None)`` given the store's revocation count
        read for this request; see :meth:`load_token_blocking` for a miss."""
        with self._lock:
            if revocations > self._revocations:
                self._tokens.clear()  # some token was revoked: which one, the store says
                self._revocations = revocations
                return False, None
            if revocations < self._revocations:
                return False, None  # read before a newer request's: ask the store
            hit = self._tokens.get(hash_token(raw))
        if hit is None:
            return False, None
        ttl = _TOKEN_CACHE_SECONDS if hit[1] is not None else _CACHE_SECONDS
        if self.clock() - hit[0] > ttl:
            return False, None
        return True, hit[1]

    def load_token_blocking(self, raw: str, revocations: int) -> TokenRecord | None:
        """The live token from the store, cached under the count read before this lookup: a
        revocation committed after that count was read moves it, so the entry is dropped."""
        digest = hash_token(raw)
        record = self.store.find_token(digest) if raw.startswith(TOKEN_PREFIX) else None
        with self._lock:
            if revocations == self._revocations:
                if len(self._tokens) > 10_000:
                    self._tokens.clear()
                self._tokens[digest] = (self.clock(), record)
        return record

    def needs_touch(self, token_id: int) -> bool:
        """Whether ``last_used_at`` is worth writing now (at most once a minute per token)."""
        now = self.clock()
        with self._lock:
            if now - self._touched.get(token_id, 0.0) < _TOUCH_EVERY:
                return False
            self._touched[token_id] = now
        return True

    def touch_token_blocking(self, token_id: int) -> None:
        with self.store.transaction() as tx:
            tx.auth.touch_token(token_id)
            tx.commit()

    def create_token_blocking(
        self, name: str, owner: str, scope: TokenScope = "admin"
    ) -> tuple[str, TokenRecord]:
        raw = new_token()
        with self.store.transaction() as tx:
            record = tx.auth.create_token(name, hash_token(raw), owner, scope)
            tx.commit()
        return raw, record

    def revoke_token_blocking(self, token_id: int) -> bool:
        """Revoke a token; the store's revocation count moves with it, which every request
        reads before trusting the cache, here and in any other process."""
        with self.store.transaction() as tx:
            revoked = tx.auth.revoke_token(token_id)
            tx.commit()
        return revoked
