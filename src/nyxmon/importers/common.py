"""Small conversions every importer needs: durations, host and port, timing that fits.

Kept apart from the per-tool tables so each tool's module reads as its mapping and nothing else.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from nyxmon.config import MIN_INTERVAL, parse_duration, spell_duration
from nyxmon.errors import ConfigError
from nyxmon.importers.draft import CheckDraft
from nyxmon.importers.report import ImportReport

__all__ = ["SourceError", "fit_timing", "go_duration", "host_port"]

_GO_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
#: NyxMon's default timeout, used when a source sets none.
DEFAULT_TIMEOUT = 10.0


class SourceError(ConfigError):
    """The file to import cannot be read as the tool's format; the message names where."""


def go_duration(text: object, key: str = "") -> float:
    """Seconds in a Go duration (``1h30m``, ``1.5h``, ``300ms``) or anything NyxMon reads;
    ``ValueError`` names ``key`` when it is not one."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    value = str(text).strip()
    try:
        return parse_duration(value)
    except ValueError:
        pass
    total, position = 0.0, 0
    for match in _GO_PART.finditer(value):
        if match.start() != position:
            break
        total += float(match.group(1)) * _GO_UNITS[match.group(2)]
        position = match.end()
    if position != len(value) or not value:
        where = f"{key}: " if key else ""
        raise ValueError(f"{where}{value!r} is not a duration like 30s, 5m or 1h30m")
    return total


def host_port(url: str, default_port: int | None) -> tuple[str, int | None]:
    """``tcp://db:5432`` -> ``("db", 5432)``; a bare ``host:port`` or ``host`` works too."""
    parts = urlsplit(url if "://" in url else f"//{url}")
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.hostname or "", port if port is not None else default_port


def fit_timing(check: CheckDraft, report: ImportReport, default_interval: float) -> None:
    """Keep NyxMon's rules: an interval of at least 1 s, a timeout shorter than the interval,
    a retry sooner than the next run; each change is reported as an approximation."""
    interval = check.interval if check.interval is not None else default_interval
    if interval < MIN_INTERVAL:
        report.approximated(check.source, f"interval {interval:g}s raised to 1s (NyxMon's least)")
        check.notes.append(f"interval raised from {interval:g}s to NyxMon's least, 1s")
        interval = check.interval = MIN_INTERVAL
    timeout = check.timeout if check.timeout is not None else DEFAULT_TIMEOUT
    if timeout >= interval:
        shorter = round(interval * 0.8, 3)
        report.approximated(
            check.source,
            f"timeout {spell_duration(timeout)} shortened to {spell_duration(shorter)}: NyxMon "
            "needs a timeout shorter than the interval",
        )
        check.notes.append(
            f"timeout shortened from {spell_duration(timeout)}: it must be shorter than the "
            "interval"
        )
        check.timeout = shorter
    retry = check.alert.get("retry_interval")
    if isinstance(retry, int | float) and retry >= interval:
        shorter = max(round(interval / 2, 3), 0.5)
        report.approximated(
            check.source,
            f"retry interval {spell_duration(retry)} shortened to {spell_duration(shorter)}: "
            "a retry must come before the next run",
        )
        check.notes.append(f"retry interval shortened from {spell_duration(retry)}")
        check.alert["retry_interval"] = spell_duration(shorter)
    elif isinstance(retry, int | float):
        check.alert["retry_interval"] = spell_duration(retry)
