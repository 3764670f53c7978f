"""Ping keys: the secret in a push check's ping URL (``/ping/{key}``).

Whoever knows a key can report the job as done or failed, so a key is generated from the
operating system's random source (128 bits, URL-safe), shown once when made and masked after
(a ``secret()`` params field), and can be replaced (rotated) at any time. Keys written by hand
or imported from another monitor (Uptime Kuma's ``pushToken``, Gatus's ``token``) are accepted
as long as they fit in a URL path segment without escaping.
"""

from __future__ import annotations

import re
import secrets

__all__ = ["KEY_CHARS", "KEY_MAX", "generate_ping_key", "key_problem"]

KEY_MAX = 128
KEY_CHARS = "letters, digits, '-', '_', '.' and '~'"
_KEY_RE = re.compile(r"[A-Za-z0-9_.~-]+")


def generate_ping_key() -> str:
    """A new random key: 22 URL-safe characters (128 bits)."""
    return secrets.token_urlsafe(16)


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot be a ping key, or None when it can."""
    if not key:
        return "a ping key cannot be empty"
    if len(key) > KEY_MAX:
        return f"a ping key has at most {KEY_MAX} characters, got {len(key)}"
    if not _KEY_RE.fullmatch(key) or key in (".", ".."):
        return f"a ping key may only hold {KEY_CHARS}"
    return None
