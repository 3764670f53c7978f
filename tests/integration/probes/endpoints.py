"""Running one check of a database or broker type against a real peer, for the probe tests."""

from __future__ import annotations

import time
from typing import Any

from tests.servers.checks import make_check

from nyxmon.domain.model import Result
from nyxmon.probes.registry import ExecutorRegistry

__all__ = ["probe", "shows_no_secret"]


async def probe(
    registry: ExecutorRegistry,
    check_type: str,
    params: dict[str, Any],
    *conditions: str,
    check_timeout: float = 5.0,
) -> Result:
    check = make_check(
        check_type, params, *conditions, check_id="data.check", timeout=check_timeout
    )
    return await registry.get(check_type).execute(check, time.time())


def shows_no_secret(result: Result, secret: str) -> bool:
    """Whether the secret appears nowhere in what a result carries."""
    return secret not in repr((result.message, result.details, result.timings))
