"""Fresh connections per probe must not pile up TIME_WAIT sockets on the agent's side."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.servers.checks import make_check
from tests.servers.http_target import HttpTarget

from nyxmon.probes.registry import builtin_registry

pytestmark = pytest.mark.anyio

TIME_WAIT = "06"


def time_wait_towards(port: int) -> int:
    """Sockets in TIME_WAIT on either end of connections to ``port`` on this host: whichever
    side closes first keeps one, and with a local target both sides are here."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if fields[3] == TIME_WAIT and port in (local_port, remote_port):
                count += 1
    return count


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux's /proc/net/tcp")
async def test_fresh_connection_probes_leave_no_time_wait_behind(http_target: HttpTarget) -> None:
    registry = builtin_registry()
    check = make_check("http", {"url": http_target.url("/health")})
    try:
        for _ in range(40):
            result = await registry.get("http").execute(check, 0.0)
            assert result.ok, result.message
    finally:
        await registry.aclose_all()
    assert http_target.state.hits["/health"] == 40, "each probe was its own request"
    assert time_wait_towards(http_target.port) == 0
