"""The ``push`` check type has no probe: its results come from pings (``/ping/{key}``), which
the agent turns into results itself (:mod:`nyxmon.service_layer.push`). The scheduler never
runs push checks; this executor answers a one-off run (``nyxmon check run``) with why not."""

from __future__ import annotations

import time

from nyxmon.domain.model import Check, Outcome, Result
from nyxmon.probes.registry import SharedResources

__all__ = ["PushExecutor", "create_executor"]


class PushExecutor:
    async def execute(self, check: Check, scheduled_at: float) -> Result:
        return Result(
            check.id,
            scheduled_at,
            time.time(),
            0.0,
            Outcome.ERROR,
            "a push check is not probed: it waits for pings to /ping/{key} "
            "(see `nyxmon ping run` and the check page)",
        )

    async def aclose(self) -> None:
        return None


def create_executor(resources: SharedResources) -> PushExecutor:
    """Registry factory."""
    return PushExecutor()
