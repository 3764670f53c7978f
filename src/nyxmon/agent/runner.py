"""Runs one check through the executor registry; what the scheduler calls for every run."""

from __future__ import annotations

import time

from nyxmon.domain.model import Check, Outcome, Result
from nyxmon.errors import UnknownCheckTypeError
from nyxmon.probes.registry import ExecutorRegistry

__all__ = ["ProbeRunner"]


class ProbeRunner:
    """``await runner.run(check, scheduled_at)`` -> Result; an unknown type is an error result."""

    def __init__(self, registry: ExecutorRegistry) -> None:
        self.registry = registry

    async def run(self, check: Check, scheduled_at: float) -> Result:
        try:
            executor = self.registry.get(check.type)
        except UnknownCheckTypeError as exc:
            return Result(
                check_id=check.id,
                scheduled_at=scheduled_at,
                started_at=time.time(),
                duration=0.0,
                outcome=Outcome.ERROR,
                message=str(exc),
                details={"error": "UnknownCheckTypeError"},
            )
        return await executor.execute(check, scheduled_at)

    async def aclose(self) -> None:
        await self.registry.aclose_all()
