"""Push checks end to end: ``nyxmon run`` (its web plane in a process of its own, pings over
the control socket), ``nyxmon ping run`` wrapping a real command, and silence turning into a
DOWN notice at a local webhook receiver once the deadline plus grace passed."""

from __future__ import annotations

import signal
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

from nyxmon.store.sqlite.store import SqliteStore
from tests.e2e.conftest import AgentProcess, free_port, nyxmon, wait_for
from tests.servers.webhook_receiver import ThreadedWebhookReceiver

KEY = "e2e-backup-key"


def results(db: Path, check_id: str) -> list:  # type: ignore[type-arg]
    with SqliteStore(db, readonly=True) as store:
        return [stored.result for stored in store.results(check_id).items]


def web_up(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
            return True
    except OSError:
        return False


def test_ping_run_wraps_a_job_and_silence_is_a_down_notice(
    tmp_path: Path, agents: Callable[..., AgentProcess]
) -> None:
    server = ThreadedWebhookReceiver()
    hook = server.start()
    port = free_port()
    try:
        db = tmp_path / "nyxmon.db"
        config = tmp_path / "nyxmon.yaml"
        config.write_text(
            f"web: {{listen: '127.0.0.1:{port}', public_url: 'http://127.0.0.1:{port}'}}\n"
            f"agent: {{database: {db}}}\n"
            f"alerting:\n  routes:\n    - {{name: hook, type: webhook, url: '{hook.url()}'}}\n"
            "services:\n  - name: jobs\n    checks:\n"
            f"      - {{name: backup, type: push, token: {KEY}, interval: 3s, grace: 1s,"
            " timeout: 2s}\n"
        )
        agent = agents("run", "--config", str(config))
        wait_for(lambda: web_up(port), what="the web plane")

        script = "import sys; print('dumped 42 tables'); sys.exit(3)"
        wrapped = nyxmon(
            "ping", "run", KEY, "--config", str(config), "--", sys.executable, "-c", script
        )
        assert wrapped.returncode == 3, wrapped.stderr
        assert "dumped 42 tables" in wrapped.stdout, "the job's output is passed through"
        end, start = results(db, "jobs.backup")[:2]
        assert start.details["ping"] == "start"
        assert (end.details["ping"], end.details["exit_status"]) == ("fail", 3)
        assert end.details["rid"] == start.details["rid"]
        assert end.details["body"] == "dumped 42 tables\n"
        assert end.details["user_agent"] == "nyxmon-ping-run"
        assert end.duration > 0

        ok = nyxmon(
            "ping", "run", KEY, "--url", f"http://127.0.0.1:{port}", "--", sys.executable, "-c", ""
        )
        assert ok.returncode == 0, ok.stderr
        assert results(db, "jobs.backup")[0].details["exit_status"] == 0
        wait_for(lambda: len(hook.state.accepted_for("jobs.backup")) >= 2, what="down, up")
        kinds = [doc["kind"] for doc in hook.state.accepted_for("jobs.backup")]
        assert kinds == ["down", "recovered"]

        # Silence: no ping for interval + grace after the last one -> DOWN, from the timer.
        last = results(db, "jobs.backup")[0]
        wait_for(lambda: len(hook.state.accepted_for("jobs.backup")) >= 3, timeout=30, what="DOWN")
        notice = hook.state.accepted_for("jobs.backup")[-1]
        missed = results(db, "jobs.backup")[0]
        assert notice["kind"] == "down"
        assert missed.details["ping"] == "missed"
        assert missed.details["deadline"] == last.started_at + 3 + 1
        assert notice["at"] >= missed.details["deadline"]
        assert "no ping: expected by" in notice["message"]

        refused = nyxmon(
            "ping", "run", "no-such-key", "--url", f"http://127.0.0.1:{port}", "--", "true"
        )
        assert refused.returncode == 0, "the job's own status, whatever the monitor says"
        assert "no push check has this key" in refused.stderr

        agent.signal(signal.SIGTERM)
        assert agent.wait(30) == 0, agent.output()
    finally:
        server.stop()
