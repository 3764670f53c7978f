"""Recorder states and overflow policies, and the checks shared by the recorder and runtime."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["OverflowPolicy", "RecorderState", "check_timeout", "parse_policy"]


class OverflowPolicy(StrEnum):
    """What ``register_event`` does when ``queue_max_size`` events are already waiting."""

    DROP_NEWEST = "drop_newest"  # refuse the new event
    DROP_OLDEST = "drop_oldest"  # evict the oldest waiting event, accept the new one
    RAISE = "raise"  # raise MetricsOverflowError in the producer


class RecorderState(StrEnum):
    NEW = "new"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"


def parse_policy(recorder_id: str, value: OverflowPolicy | str) -> OverflowPolicy:
    try:
        return OverflowPolicy(value)
    except ValueError:
        choices = ", ".join(repr(p.value) for p in OverflowPolicy)
        raise ValueError(
            f"recorder {recorder_id!r}: overflow_policy must be one of {choices}, got {value!r}"
        ) from None


def check_timeout(timeout: float) -> float:
    """Timeouts bound every wait for a loop; ``None`` (wait forever) is refused on purpose."""
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout >= 0:
        raise ValueError(f"timeout must be a number of seconds >= 0, got {timeout!r}")
    return float(timeout)
