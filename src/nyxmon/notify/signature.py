"""Webhook signatures: HMAC-SHA256 over the timestamp and the exact body.

The scheme, for receivers::

    X-NyxMon-Timestamp: 1732388760                 (POSIX seconds, integer)
    X-NyxMon-Signature: sha256=<hex>

    hex = HMAC-SHA256(key=secret as UTF-8, message=b"<timestamp>." + raw request body)

Verify against the raw bytes received (not re-serialised JSON), compare in constant time, and
reject timestamps far from now (default: more than 5 minutes) so a captured request cannot be
replayed later. The idempotency key (``X-NyxMon-Idempotency-Key``) is inside the signed body as
``key`` too. :func:`verify_signature` does all of this.
"""

from __future__ import annotations

import hashlib
import hmac
import time

__all__ = [
    "IDEMPOTENCY_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "sign",
    "verify_signature",
]

SIGNATURE_HEADER = "X-NyxMon-Signature"
TIMESTAMP_HEADER = "X-NyxMon-Timestamp"
IDEMPOTENCY_HEADER = "X-NyxMon-Idempotency-Key"
_PREFIX = "sha256="


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-NyxMon-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return _PREFIX + mac.hexdigest()


def verify_signature(
    secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    *,
    tolerance: float = 300.0,
    now: float | None = None,
) -> bool:
    """Whether ``signature`` signs ``body`` at ``timestamp`` with ``secret``, recently enough.

    ``timestamp`` and ``signature`` are the raw header values (``None`` if missing).
    """
    if not timestamp or not signature or not signature.startswith(_PREFIX):
        return False
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)
