"""Dashboard users and API tokens (only hashes are ever stored)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "READ_METHODS",
    "TOKEN_SCOPES",
    "SessionRecord",
    "TokenRecord",
    "TokenScope",
    "UserRecord",
]

TokenScope = Literal["read", "admin"]
#: Every scope, least privilege first: ``read`` may only read, ``admin`` may do everything.
TOKEN_SCOPES: tuple[TokenScope, ...] = ("read", "admin")
#: The HTTP methods a ``read`` token may use: reads only (the event stream is a GET too).
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class UserRecord:
    name: str
    password_hash: str
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An API token (only its hash is stored)."""

    id: int
    name: str
    owner: str
    created_at: float
    last_used_at: float | None
    revoked_at: float | None
    scope: TokenScope = "admin"

    def allows(self, method: str) -> bool:
        """Whether this token may make a request with the HTTP ``method``."""
        return self.scope == "admin" or method.upper() in READ_METHODS


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A signed-in browser, kept server-side so it can be ended at once (only the SHA-256 of
    the cookie's token is stored). It is over at ``expires_at``: the sooner of ``ends_at``
    (the absolute end) and the last use plus the idle limit."""

    token_hash: str
    user: str
    created_at: float
    last_seen_at: float
    ends_at: float
    expires_at: float
    client: str = ""
    user_agent: str = ""
