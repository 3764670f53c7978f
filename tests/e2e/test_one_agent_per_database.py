"""One agent per SQLite database: a second one refuses to start and names the first."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.e2e.conftest import nyxmon, result_count, wait_for, write_config
from tests.e2e.test_agent_process import Agents, check
from tests.servers.http_target import HttpTarget


def test_a_second_agent_on_the_same_file_refuses_naming_the_first(
    tmp_path: Path, target: HttpTarget, agents: Agents
) -> None:
    db = tmp_path / "nyxmon.db"
    config = write_config(tmp_path / "nyxmon.yaml", db, check("a", target.url("/health")))
    # The second agent's own web section, so only the database is shared.
    other = write_config(tmp_path / "other.yaml", db, check("a", target.url("/health")))
    first = agents("run", "--config", str(config))
    wait_for(lambda: result_count(db) >= 2, what="the first agent's results")

    second = agents("run", "--config", str(other))
    assert second.wait(60) == 1, second.output()
    said = second.output()
    assert f"another agent is running on {db}" in said
    assert f"pid {first.proc.pid}" in said
    assert "Traceback" not in said
    assert first.alive()

    # Readers are not agents: the CLI still reads the database the agent holds.
    listed = nyxmon("check", "list", "--config", str(config))
    assert listed.returncode == 0, listed.stderr
    assert "web.a" in listed.stdout

    # The kernel drops the lock with its holder, even on kill -9: no stale lock to clear.
    first.signal(signal.SIGKILL)
    first.wait(10)
    third = agents("run", "--config", str(other))
    after = result_count(db)
    wait_for(lambda: result_count(db) >= after + 2, what="the next agent's results")
    third.signal(signal.SIGTERM)
    assert third.wait(30) == 0, third.output()
