"""Dashboard users and API tokens (only hashes are ever stored)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TokenRecord", "UserRecord"]


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
