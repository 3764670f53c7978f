"""Wall-clock times in a time zone to POSIX seconds and back, with one rule for DST edges.

A maintenance window is written in local time ("Sunday 02:00-04:00 Europe/Berlin"), but the
agent compares POSIX seconds. Twice a year a local time does not exist (spring forward) or
exists twice (fall back); :func:`to_posix` settles both the same way everywhere:

- a time in the gap maps to the instant the clocks jump (02:30 on the spring-forward night in
  Berlin becomes 03:00 CEST), so a window that starts in the gap starts when the gap ends;
- a time that occurs twice maps to its first occurrence (fold 0), so a window never runs twice.

Both rules keep the mapping monotonic: a later wall-clock time never maps to an earlier instant,
which lets schedules walk wall-clock times in order and trust the instants to follow.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["dst_nearby", "to_local", "to_posix", "zone"]

_DAY = 86400.0


@functools.lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    """The zone called ``name``; raises ``ValueError`` for an unknown name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f'unknown time zone "{name}" (expected a name like Europe/Berlin)'
        ) from None


def to_local(timestamp: float, tz: ZoneInfo) -> datetime:
    """The naive wall-clock time in ``tz`` at ``timestamp``."""
    return datetime.fromtimestamp(timestamp, tz).replace(tzinfo=None)


def to_posix(local: datetime, tz: ZoneInfo) -> float:
    """POSIX seconds of the naive wall-clock time ``local`` in ``tz`` (see the module rules)."""
    first = local.replace(tzinfo=tz, fold=0)
    instant = first.timestamp()
    if to_local(instant, tz) == local:
        return instant
    # In the gap: fold=1 reads it with the offset after the jump (an instant before the jump),
    # fold=0 with the offset before it (an instant after); the jump lies in between.
    low = int(local.replace(tzinfo=tz, fold=1).timestamp())
    high = int(instant)
    after = datetime.fromtimestamp(high, tz).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).utcoffset() == after:
            high = middle
        else:
            low = middle
    return float(high)


def dst_nearby(timestamp: float, tz: ZoneInfo) -> bool:
    """Whether ``tz`` changes its UTC offset within about a day of ``timestamp``.

    Far from a change, wall-clock and POSIX time differ by a constant, and schedules can skip
    the careful walk that DST edges need.
    """
    offsets = {
        datetime.fromtimestamp(timestamp + delta, UTC).astimezone(tz).utcoffset()
        for delta in (-1.1 * _DAY, 0.0, 1.1 * _DAY)
    }
    return len(offsets) > 1
