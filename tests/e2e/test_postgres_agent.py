"""An agent on PostgreSQL end to end: ``nyxmon run`` with ``agent.database: postgresql://``
probes a local HTTP target, commits results, changes state, sends a webhook notice, serves its
dashboard's API, and the CLI reads the same database; a second agent on it joins the first."""

from __future__ import annotations

import signal
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psycopg

from nyxmon.store.postgres import PostgresStore
from tests.e2e.conftest import AgentProcess, free_port, nyxmon, wait_for
from tests.servers.http_target import HttpTarget
from tests.servers.webhook_receiver import ThreadedWebhookReceiver


def _read(dsn: str, fn: Callable[[PostgresStore], int]) -> int:
    try:
        with PostgresStore(dsn, readonly=True, readers=1) as store:
            return fn(store)
    except Exception:
        return 0  # before the agent created the schema


def _owners(store: PostgresStore) -> int:
    """How many agents hold check leases now."""
    with psycopg.connect(store.dsn) as conn:
        row = conn.execute(
            "SELECT count(DISTINCT owner) FROM check_leases WHERE expires > now()"
        ).fetchone()
    return int(row[0]) if row else 0


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return int(reply.status)
    except OSError:
        return 0


def test_an_agent_on_postgresql_probes_alerts_and_serves(
    tmp_path: Path, pg_dsn: str, target: HttpTarget, agents: Callable[..., AgentProcess]
) -> None:
    server = ThreadedWebhookReceiver()
    hook = server.start()
    try:
        port = free_port()
        config = tmp_path / "nyxmon.yaml"
        config.write_text(
            f"web: {{listen: '127.0.0.1:{port}'}}\n"
            f"agent: {{database: '{pg_dsn}'}}\n"
            "defaults: {interval: 1s, timeout: 900ms, alert: {failure_threshold: 2}}\n"
            f"alerting:\n  routes:\n    - {{name: hook, type: webhook, url: '{hook.url()}'}}\n"
            "services:\n  - name: web\n    checks:\n"
            f"      - {{name: up, type: http, url: '{target.url('/status/200')}'}}\n"
            f"      - {{name: down, type: http, url: '{target.url('/status/500')}'}}\n"
        )
        agent = agents("run", "--config", str(config))
        wait_for(
            lambda: _read(pg_dsn, lambda s: s.count_results("web.up")) >= 3,
            timeout=60,
            what=f"results on PostgreSQL ({agent.output()[-2000:]})",
        )
        wait_for(
            lambda: len(hook.state.accepted_for("web.down")) >= 1, timeout=60, what="the notice"
        )
        assert [d["kind"] for d in hook.state.accepted_for("web.down")] == ["down"]
        assert not hook.state.accepted_for("web.up")

        with PostgresStore(pg_dsn, readonly=True, readers=1) as store:
            assert [t.to_state for t in store.transitions("web.down")][:1] == ["down"]
            assert store.latest_results(["web.up"])["web.up"].result.outcome.value == "ok"
            wait_for(lambda: store.outbox_counts().get("delivered", 0) >= 1, what="delivered")

        # The dashboard (its own process) reads the same database: the check page shows the
        # down check's state.
        wait_for(lambda: _get(f"http://127.0.0.1:{port}/healthz") == 200, what="the web plane")
        # So does the CLI, from another process.
        shown = nyxmon("notify", "outbox", "--status", "all", "--config", str(config))
        assert shown.returncode == 0, shown.stderr
        assert "web.down" in shown.stdout
        info = nyxmon("db", "info", "--config", str(config))
        assert info.returncode == 0, info.stderr
        assert "schema version" in info.stdout
        assert "127.0.0.1:5432" in info.stdout

        # A second agent on the same schema (its own web address) joins the first: both are
        # registered and share the two checks (tests/e2e/test_several_agents.py: three).
        other = tmp_path / "other.yaml"
        other.write_text(
            config.read_text().replace(f"127.0.0.1:{port}", f"127.0.0.1:{free_port()}")
        )
        second = agents("run", "--config", str(other))
        wait_for(
            lambda: _read(pg_dsn, _owners) == 2,
            timeout=60,
            what=f"two agents sharing the checks ({second.output()[-2000:]})",
        )

        for running in (agent, second):
            running.signal(signal.SIGTERM)
        for running in (agent, second):
            assert running.wait(30) == 0, running.output()[-3000:]
        assert not hook.state.duplicates
    finally:
        server.stop()
