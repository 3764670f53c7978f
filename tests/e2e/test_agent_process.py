"""``nyxmon run`` as a real process: signals, crashes, reloads."""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from nyxmon.agent.scheduler import phase_of
from tests.e2e.conftest import AgentProcess, nyxmon, result_count, wait_for, write_config
from tests.servers.http_target import HttpTarget

Agents = Callable[..., AgentProcess]


def check(name: str, url: str, extra: str = "") -> str:
    return f"      - {{name: {name}, type: http, url: '{url}'{extra}}}\n"


def test_sigterm_lets_the_probe_in_flight_finish_and_writes_every_result(
    tmp_path: Path, target: HttpTarget, agents: Agents
) -> None:
    db = tmp_path / "nyxmon.db"
    config = write_config(
        tmp_path / "nyxmon.yaml",
        db,
        check("fast", target.url("/health"))
        + check("slow", target.url("/slow?delay=1.5"), ", interval: 4s, timeout: 3s"),
    )
    agent = agents("run", "--config", str(config))
    wait_for(lambda: result_count(db, "web.fast") >= 3, what="results in the database")
    wait_for(lambda: target.state.in_flight >= 1, what="the slow probe to be in flight")
    agent.signal(signal.SIGTERM)
    assert agent.wait(30) == 0, agent.output()
    assert "every result written" in agent.output()
    assert result_count(db, "web.slow") == target.state.hits["/slow"]
    assert result_count(db, "web.fast") == target.state.hits["/health"]

    shown = nyxmon("results", "web.fast", "--config", str(config), "--since", "1h")
    assert shown.returncode == 0, shown.stderr
    assert "web.fast" in shown.stdout
    assert shown.stdout.count("200 OK") >= 3


def test_kill_9_loses_nothing_committed_and_a_restart_resumes(
    tmp_path: Path, target: HttpTarget, agents: Agents
) -> None:
    db = tmp_path / "nyxmon.db"
    config = write_config(tmp_path / "nyxmon.yaml", db, check("a", target.url("/health")))
    first = agents("run", "--config", str(config))
    wait_for(lambda: result_count(db) >= 4, what="committed results")
    committed = result_count(db)
    first.signal(signal.SIGKILL)
    first.wait(10)

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    after_crash = result_count(db)
    assert after_crash >= committed

    second = agents("run", "--config", str(config))
    wait_for(lambda: result_count(db) >= after_crash + 3, what="scheduling to resume")
    second.signal(signal.SIGTERM)
    assert second.wait(30) == 0, second.output()


def test_sighup_reloads_the_file_and_refuses_a_broken_one(
    tmp_path: Path, target: HttpTarget, agents: Agents
) -> None:
    db = tmp_path / "nyxmon.db"
    path = tmp_path / "nyxmon.yaml"
    write_config(path, db, check("a", target.url("/health")))
    agent = agents("run", "--config", str(path))
    wait_for(lambda: result_count(db, "web.a") >= 1, what="the first check")

    write_config(path, db, check("a", target.url("/health")) + check("b", target.url("/json")))
    agent.signal(signal.SIGHUP)
    wait_for(lambda: result_count(db, "web.b") >= 1, what="the reloaded check to run")
    assert "1 added" in agent.output()

    path.write_text(path.read_text().replace("interval: 1s", "interval: fast"))
    agent.signal(signal.SIGHUP)
    wait_for(lambda: "reload refused" in agent.output(), what="the refusal")
    assert "nyxmon.yaml:5: defaults.interval" in agent.output()
    runs_of_b = result_count(db, "web.b")
    wait_for(lambda: result_count(db, "web.b") > runs_of_b, what="the old config to keep running")
    assert agent.alive()
    agent.signal(signal.SIGTERM)
    assert agent.wait(30) == 0


@pytest.mark.timeout(120)  # may wait out one missed first slot (30 s)
def test_a_second_signal_exits_at_once(tmp_path: Path, target: HttpTarget, agents: Agents) -> None:
    db = tmp_path / "nyxmon.db"
    # First runs sit at a stable wall-clock phase of the interval; pick a name whose first
    # slot comes 3-4 s from now. On a loaded machine the agent may start after that slot; the
    # next one is an interval (30 s) later, so the wait allows for it.
    now = time.time() + 3.0
    name = next(
        f"stuck-{i}"
        for i in range(100_000)
        if 0.0 < (phase_of(f"web.stuck-{i}") * 30 - now) % 30 < 1.0
    )
    config = write_config(
        tmp_path / "nyxmon.yaml",
        db,
        check(name, target.url("/slow?delay=60"), ", interval: 30s, timeout: 25s"),
        grace="100s",
    )
    agent = agents("run", "--config", str(config))
    wait_for(lambda: target.state.in_flight >= 1, timeout=45, what="the stuck probe")
    agent.signal(signal.SIGTERM)
    wait_for(lambda: "signal again to exit at once" in agent.output(), what="the first signal")
    agent.signal(signal.SIGTERM)
    assert agent.wait(20) == 128 + signal.SIGTERM


def test_a_broken_config_stops_the_start_with_every_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "agent: {database: x.db}\nservices:\n  - name: web\n    checks:\n"
        "      - {name: a, type: http, url: 'ftp://x', interval: soon}\n"
    )
    done = nyxmon("run", "--config", str(bad), timeout=60)
    assert done.returncode == 1
    assert "bad.yaml:5: services[0].checks[0].interval" in done.stderr
    assert "bad.yaml:5: services[0].checks[0].url" in done.stderr
    assert not (tmp_path / "x.db").exists(), "nothing may be created from a refused file"
