"""The agent's health as the web plane, the control socket and ``/healthz`` pass it on.

Judged by :class:`nyxmon.agent.health.HealthMonitor`; plain data so it crosses processes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Health", "HealthStatus"]

HealthStatus = Literal["ok", "degraded", "failing"]


@dataclass(frozen=True, slots=True)
class Health:
    """``failing``: not live or not ready; ``degraded``: ready, with problems worth a look."""

    status: HealthStatus
    live: bool
    ready: bool
    problems: tuple[str, ...] = ()
    figures: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "live": self.live,
            "ready": self.ready,
            "problems": list(self.problems),
            "figures": dict(self.figures),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Health:
        status = str(data.get("status", "failing"))
        return cls(
            status="ok" if status == "ok" else "degraded" if status == "degraded" else "failing",
            live=bool(data.get("live")),
            ready=bool(data.get("ready")),
            problems=tuple(str(p) for p in data.get("problems", ())),
            figures=dict(data.get("figures") or {}),
        )

    @classmethod
    def unreachable(cls, why: str) -> Health:
        return cls("failing", False, False, (why,))
