"""One ping as the agent receives it from the web plane.

The web plane parses the URL and reads the body (at most :data:`MAX_BODY` bytes); the agent
finds the check by its key, cuts the body to the check's ``body_limit`` and decides what the
ping means (:mod:`.tracker`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["MAX_BODY", "Ping", "PingKind", "parse_ping_path"]

MAX_BODY = 1024 * 1024
"""The most of a ping's body the web plane reads and sends on (a check keeps less)."""

RID_MAX = 128


class PingKind(StrEnum):
    """``success`` and ``fail`` end a run (``/ping/{key}/{exit_status}`` is one of them),
    ``start`` begins one, ``log`` only records its body."""

    SUCCESS = "success"
    FAIL = "fail"
    START = "start"
    LOG = "log"

    @property
    def ends_run(self) -> bool:
        return self in (PingKind.SUCCESS, PingKind.FAIL)


@dataclass(frozen=True, slots=True)
class Ping:
    """``key`` names the check; ``at`` is when the web plane received it (POSIX seconds, to the
    millisecond like a :class:`~nyxmon.domain.model.Result`'s times, so the deadlines and run
    starts derived from it agree with the stored pings)."""

    key: str
    kind: PingKind
    at: float
    exit_status: int | None = None
    body: bytes = b""
    rid: str | None = None
    remote_addr: str = ""
    user_agent: str = ""
    method: str = "GET"

    def __post_init__(self) -> None:
        if math.isfinite(self.at):
            object.__setattr__(self, "at", round(self.at * 1000) / 1000)


def parse_ping_path(rest: str) -> tuple[str, PingKind, int | None] | None:
    """``key``, ``key/start``, ``key/fail``, ``key/log`` or ``key/<0-255>`` (the part of the
    path after ``/ping/``) as (key, kind, exit status); None for anything else."""
    key, _, action = rest.partition("/")
    if not key or "/" in action:
        return None
    if action == "":
        return key, PingKind.SUCCESS, None
    if action in ("start", "fail", "log"):
        return key, PingKind(action), None
    if action.isdigit() and len(action) <= 3 and action.isascii():
        status = int(action)
        if status <= 255:
            return key, PingKind.SUCCESS if status == 0 else PingKind.FAIL, status
    return None
