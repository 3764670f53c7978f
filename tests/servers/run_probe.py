"""Run one probe in this process and print its result as JSON (for probes that must run in
another network namespace): ``python -m tests.servers.run_probe TYPE '{"host": ...}' [COND...]``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import time

from nyxmon.domain.model import Check
from nyxmon.probes.registry import builtin_registry


async def main(type_name: str, params: str, conditions: list[str]) -> None:
    check = Check(
        id="ns.probe", service="ns", name="probe", type=type_name, interval=60.0, timeout=10.0,
        params=json.loads(params), conditions=tuple(conditions),
    )  # fmt: skip
    registry = builtin_registry()
    try:
        result = await registry.get(type_name).execute(check, time.time())
    finally:
        await registry.aclose_all()
    record = dataclasses.asdict(result)
    record["outcome"] = result.outcome.value
    print(json.dumps(record, default=str))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
