"""Alerting across a crash: a notification committed but not delivered survives kill -9."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

from nyxmon.store.sqlite.store import SqliteStore
from tests.e2e.conftest import AgentProcess, nyxmon, wait_for, web_section
from tests.servers.http_target import HttpTarget
from tests.servers.webhook_receiver import ThreadedWebhookReceiver


def pending_attempts(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with SqliteStore(db, readonly=True) as store:
            return max((i.attempts for i in store.outbox(status="pending")), default=0)
    except Exception:
        return 0


def test_a_notice_committed_before_a_kill_9_is_delivered_once_after_restart(
    tmp_path: Path, target: HttpTarget, agents: Callable[..., AgentProcess]
) -> None:
    server = ThreadedWebhookReceiver()
    hook = server.start()
    try:
        server.call(lambda state: setattr(state, "fail_status", 503))
        db = tmp_path / "nyxmon.db"
        config = tmp_path / "nyxmon.yaml"
        config.write_text(
            web_section() + f"agent: {{database: {db}}}\n"
            "defaults: {interval: 1s, timeout: 900ms, alert: {failure_threshold: 2}}\n"
            f"alerting:\n  routes:\n    - {{name: hook, type: webhook, url: '{hook.url()}'}}\n"
            "services:\n  - name: web\n    checks:\n"
            f"      - {{name: site, type: http, url: '{target.url('/status/500')}'}}\n"
        )
        first = agents("run", "--config", str(config))
        wait_for(lambda: pending_attempts(db) >= 1, what="a DOWN committed and failing to go out")
        first.signal(signal.SIGKILL)
        first.wait(10)
        assert hook.state.accepted == []
        shown = nyxmon("notify", "outbox", "--config", str(config))
        assert shown.returncode == 0, shown.stderr
        assert "web.site" in shown.stdout
        assert "503" in shown.stdout, "the failure reason is visible"

        server.call(lambda state: setattr(state, "fail_status", None))
        second = agents("run", "--config", str(config))
        wait_for(lambda: len(hook.state.accepted_for("web.site")) >= 1, what="the delivery")
        wait_for(lambda: pending_attempts(db) == 0, what="its outcome stored")
        second.signal(signal.SIGTERM)
        assert second.wait(30) == 0, second.output()
        kinds = [doc["kind"] for doc in hook.state.accepted_for("web.site")]
        assert kinds == ["down"], "exactly one DOWN: none lost, none repeated by the restart"
        assert not hook.state.duplicates
    finally:
        server.stop()
