"""Small text helpers the dashboard's templates share: ages, durations, times, states.

Pure functions of their arguments (``now`` is passed in), so a page renders the same text the
browser's ticker (``static/js/live.js``) later keeps up to date, and tests need no clock.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from nyxmon.checktypes import CHECK_TYPES
from nyxmon.checktypes.durations import duration_fields, spell_duration
from nyxmon.checktypes.secrets import mask_check_params
from nyxmon.domain.durations import human_duration
from nyxmon.domain.history.uptime import percent_text
from nyxmon.domain.model import Check

__all__ = [
    "STATES",
    "STATE_LABELS",
    "age",
    "clock",
    "duration",
    "millis",
    "percent",
    "shown_params",
    "target_of",
    "timestamp",
]

#: Every state a check can show, worst first (the order of filters and summaries).
STATES = ("down", "flapping", "degraded", "maintenance", "pending", "up", "paused")
#: What a state says in words: shown next to its colour, never colour alone.
STATE_LABELS: Mapping[str, str] = {
    "up": "Up",
    "down": "Down",
    "degraded": "Degraded",
    "flapping": "Flapping",
    "maintenance": "Maintenance",
    "pending": "Pending",
    "paused": "Paused",
}


def age(then: float | None, now: float) -> str:
    """``"4 s ago"``, ``"3 min ago"``, ``"2 h ago"``, ``"5 d ago"``; ``"never"`` for None."""
    if then is None:
        return "never"
    seconds = max(0.0, now - then)
    if seconds < 60:
        return f"{int(seconds)} s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} d ago"


def millis(seconds: float | None) -> str:
    """A latency in milliseconds: ``"42 ms"``, ``"1.2 ms"`` below 10, ``"—"`` when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    ms = seconds * 1000
    return f"{ms:.1f} ms" if ms < 10 else f"{ms:,.0f} ms"


def duration(seconds: float | None) -> str:
    """A span of time for people, as every other part of NyxMon shows it."""
    return human_duration(seconds)


def percent(value: float | None) -> str:
    """``"99.95 %"``; 100 stays ``"100 %"``; ``"—"`` without data (the one uptime text)."""
    return percent_text(value)


def timestamp(at: float | None) -> str:
    """An ISO 8601 UTC time for ``<time datetime>`` attributes and titles."""
    if at is None:
        return ""
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def clock(at: float | None) -> str:
    """A readable UTC time, ``"2026-03-01 14:03:05 UTC"`` (the browser rewrites it locally)."""
    if at is None:
        return "—"
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def target_of(check: Check) -> str:
    """What a check probes, in one line: its URL, or ``A demo.example @ 127.0.0.1:53``."""
    params: Mapping[str, Any] = mask_check_params(check.type, check.params)
    url = params.get("url")
    if isinstance(url, str):
        method = params.get("method", "GET")
        return url if method in (None, "GET") else f"{method} {url}"
    name = params.get("query_name")
    if isinstance(name, str):
        record = params.get("record_type", "A")
        server = params.get("server")
        servers = params.get("servers")
        where = f" @ {server}:{params.get('port', 53)}" if server else ""
        if servers and isinstance(servers, list):
            where = " @ " + ", ".join(str(item) for item in servers)
        return f"{record} {name}{where}"
    for key in ("host", "address", "target"):
        value = params.get(key)
        if isinstance(value, str):
            port = params.get("port")
            return f"{value}:{port}" if isinstance(port, int) else value
    return ""


_SECRET_WORDS = ("token", "password", "secret", "authorization", "api_key", "apikey", "cookie")


def _is_secret(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in _SECRET_WORDS)


#: Settings of any check type that are durations: shown as written in the file (``500ms``).
_DURATIONS = frozenset().union(*(duration_fields(t.params) for t in CHECK_TYPES.values()))


def _show(key: str, value: Any) -> str:
    if _is_secret(key) and value not in (None, ""):
        return "••••••"
    if key in _DURATIONS and isinstance(value, int | float) and not isinstance(value, bool):
        return spell_duration(float(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_show(str(k), v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_show(key, item) for item in value)
    return str(value)


def shown_params(params: Mapping[str, Any], type_name: str = "") -> list[tuple[str, str]]:
    """A check's own settings for people to read; unset ones left out, secrets masked (those
    its type declares, and whatever else sounds secret)."""
    return [
        (key, _show(key, value))
        for key, value in mask_check_params(type_name, params).items()
        if value is not None and value != {} and value != []
    ]
