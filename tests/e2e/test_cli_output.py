"""What the ``nyxmon`` commands print, in their own processes: the agent's stored state, the
config's defaults, ``--json`` with the REST API's field names, ``--version``, plurals, the
outbox newest first, ids never cut, and exit codes (1: not done, 2: a bad command line)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from nyxmon.domain.alerting.notices import CheckInfo
from nyxmon.domain.alerting.types import AlertState, Notice, NoticeKind, Severity
from nyxmon.service_layer.records.alerts import OutboxRow, OutboxUpdate
from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.store.sqlite.store import SqliteStore
from nyxmon.web.api.schemas import CheckOut, ResultOut
from tests.e2e.conftest import AgentProcess, nyxmon, wait_for, web_section
from tests.servers.http_target import HttpTarget


def narrow(*args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    """``nyxmon ARGS`` on a terminal ``columns`` wide."""
    return subprocess.run(
        [sys.executable, "-m", "nyxmon", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": str(columns)},
        check=False,
    )


def config_with_defaults(folder: Path, extra_checks: str = "") -> Path:
    path = folder / "nyxmon.yaml"
    path.write_text(
        web_section() + f"agent: {{database: {folder / 'nyxmon.db'}}}\n"
        "defaults: {interval: 30s, timeout: 5s, alert: {failure_threshold: 2}}\n"
        "services:\n  - name: web\n    checks:\n"
        "      - {name: home, type: http, url: 'http://127.0.0.1:9/'}\n" + extra_checks
    )
    return path


def add(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return nyxmon("check", "add", "--config", str(config), "--service", "shop", *args)


def test_check_add_takes_the_config_defaults_and_its_rules(tmp_path: Path) -> None:
    config = config_with_defaults(tmp_path)
    done = add(config, "--name", "cart", "--type", "http", "--set", "url=http://127.0.0.1:9/")
    assert done.returncode == 0, done.stderr
    assert "added check shop.cart (http, every 30s, timeout 5s)" in done.stdout
    with SqliteStore(tmp_path / "nyxmon.db", readonly=True) as store:
        check = store.get_check("shop.cart")
    assert check is not None
    assert (check.interval, check.timeout) == (30.0, 5.0)

    too_long = add(
        config, "--name", "x", "--type", "http", "--set", "url=http://x/", "--timeout", "45s"
    )
    assert too_long.returncode == 1
    assert "--timeout: expected a timeout shorter than defaults.interval (30s), got 45s" in (
        too_long.stderr
    )


def test_check_add_refuses_a_condition_its_type_never_observes(tmp_path: Path) -> None:
    config = config_with_defaults(tmp_path)
    done = add(
        config,
        "--name",
        "apex",
        "--type",
        "dns",
        "--set",
        "query_name=example.test",
        "--condition",
        "[RESPONSE_TIME] < 500",
        "--condition",
        "[STATUS] == 200",
    )
    assert done.returncode == 1
    assert (
        "--condition '[STATUS] == 200': [STATUS] is never observed by dns checks "
        "(they observe [ANSWERS], [CONNECTED], [DNS_RCODE], [IP], [IPS], [RESPONSE_TIME])"
    ) in done.stderr
    if (tmp_path / "nyxmon.db").exists():
        with SqliteStore(tmp_path / "nyxmon.db", readonly=True) as store:
            assert store.get_check("shop.apex") is None


def test_max_response_time_takes_a_duration_and_is_shown_as_one(tmp_path: Path) -> None:
    config = config_with_defaults(tmp_path)
    url = "url=http://127.0.0.1:9/"
    done = add(
        config, "--name", "fast", "--type", "http", "--set", url, "--set", "max_response_time=500ms"
    )
    assert done.returncode == 0, done.stderr
    shown = nyxmon("check", "show", "shop.fast", "--config", str(config))
    assert "max_response_time: 500ms" in shown.stdout
    bad = add(
        config, "--name", "slow", "--type", "http", "--set", url, "--set", "max_response_time=soon"
    )
    assert bad.returncode == 1
    assert '--set max_response_time: expected a duration like 30s, 5m or 1h30m, got "soon"' in (
        bad.stderr
    )


@pytest.mark.timeout(180)  # a dozen CLI processes, each importing every check type
def test_check_show_and_list_give_the_alert_state_the_agent_stored(
    tmp_path: Path, target: HttpTarget, agents: Callable[..., AgentProcess]
) -> None:
    db = tmp_path / "nyxmon.db"
    config = tmp_path / "nyxmon.yaml"
    config.write_text(
        web_section() + f"agent: {{database: {db}}}\n"
        "defaults: {interval: 1s, timeout: 900ms, alert: {failure_threshold: 2}}\n"
        "services:\n  - name: web\n    checks:\n"
        f"      - {{name: site, type: http, url: '{target.url('/status/500')}'}}\n"
    )
    agent = agents("run", "--config", str(config))

    def stored_down() -> bool:
        try:
            with SqliteStore(db, readonly=True) as store:
                row = store.load_states().get("web.site")
        except Exception:
            return False
        return row is not None and row.state == "down"

    wait_for(stored_down, what="the agent to store web.site as down")
    agent.signal(signal.SIGTERM)
    assert agent.wait(30) == 0, agent.output()

    shown = nyxmon("check", "show", "web.site", "--config", str(config))
    assert shown.returncode == 0, shown.stderr
    state = next(line for line in shown.stdout.splitlines() if line.strip().startswith("state"))
    assert state.split()[1:3] == ["down", "since"], shown.stdout
    assert "enabled" in shown.stdout
    assert "down" in nyxmon("check", "list", "--config", str(config)).stdout

    assert nyxmon("check", "pause", "web.site", "--config", str(config)).returncode == 0
    paused = nyxmon("check", "show", "web.site", "--config", str(config)).stdout
    assert "paused" in paused
    as_json = json.loads(nyxmon("check", "show", "web.site", "--json", "-c", str(config)).stdout)
    assert as_json["state"] == "down"
    assert as_json["paused"] is True
    assert as_json["status"]["consecutive_failures"] >= 2
    assert set(CheckOut.model_fields) <= set(as_json)
    assert as_json["results"]
    assert set(as_json["results"][0]) == set(ResultOut.model_fields)

    listed = json.loads(nyxmon("check", "list", "--json", "--config", str(config)).stdout)
    assert listed["total"] == 1
    assert set(listed["items"][0]) == set(CheckOut.model_fields)
    results = json.loads(nyxmon("results", "web.site", "--json", "-c", str(config)).stdout)
    assert results["items"][0]["check_id"] == "web.site"
    assert results["items"][0]["outcome"] == "fail"
    assert set(results) == {"items", "next_cursor"}


def test_ids_are_never_cut_on_a_narrow_terminal(tmp_path: Path) -> None:
    config = config_with_defaults(tmp_path)
    long_name = "a-check-with-a-rather-long-name-indeed"
    done = add(config, "--name", long_name, "--type", "http", "--set", "url=http://127.0.0.1:9/")
    assert done.returncode == 0, done.stderr
    listed = narrow("check", "list", "--config", str(config), columns=80)
    assert listed.returncode == 0, listed.stderr
    assert f"shop.{long_name}" in listed.stdout
    assert "…" not in listed.stdout.split("shop.")[1].split()[0]


def test_version_plurals_and_exit_codes(tmp_path: Path) -> None:
    version = nyxmon("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("nyxmon 0.")

    db = str(tmp_path / "t.db")
    with SqliteStore(tmp_path / "t.db") as store, store.transaction() as tx:
        tx.auth.put_user("admin", "x")
        tx.commit()
    assert nyxmon("token", "create", "ci", "--db", db).returncode == 0
    tokens = nyxmon("token", "list", "--db", db)
    assert "1 token" in tokens.stdout
    assert "1 tokens" not in tokens.stdout

    hook = "alerting:\n  routes:\n    - {name: ops, type: webhook, url: 'http://127.0.0.1:9/'}\n"
    config = config_with_defaults(tmp_path)
    config.write_text(config.read_text() + hook)
    routes = nyxmon("notify", "routes", "--config", str(config))
    assert "1 route" in routes.stdout
    assert "1 routes" not in routes.stdout

    assert nyxmon("notify", "test", "nope", "--config", str(config)).returncode == 1
    assert nyxmon("check", "run", "--db", db).returncode == 2, "neither ids nor --all"
    bad_status = nyxmon("notify", "outbox", "--status", "sent", "--db", db)
    assert bad_status.returncode == 2
    assert "--status" in bad_status.stderr


def _row(key: str, at: float) -> OutboxRow:
    notice = Notice(
        key=key,
        check_id="shop.cart",
        kind=NoticeKind.DOWN,
        state=AlertState.DOWN,
        previous=AlertState.UP,
        at=at,
        since=at - 30,
        severity=Severity.CRITICAL,
        message=f"notice {key}",
    )
    return OutboxRow(key, "ops", notice, CheckInfo("shop.cart", "cart", "shop"), at)


def test_the_outbox_lists_the_newest_and_its_caption_agrees_with_its_table(
    tmp_path: Path,
) -> None:
    db = tmp_path / "o.db"
    url = "url=http://127.0.0.1:9/"
    made = nyxmon(
        "check", "add", "--db", str(db), "--service", "shop", "--name", "cart", "--type", "http",
        "--set", url,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    with SqliteStore(db) as store:
        receipt = store.write_batch(
            WriteBatch(outbox=[_row(f"k{n}", 1000.0 + n) for n in range(1, 11)])
        )
        ids = [i for i in receipt.outbox_ids if i is not None]
        delivered = [OutboxUpdate(i, "delivered", 1, 0.0, "", 2000.0) for i in ids[:6]]
        store.write_batch(WriteBatch(outbox_updates=delivered))

    every = nyxmon("notify", "outbox", "--db", str(db), "--status", "delivered", "--limit", "3")
    assert every.returncode == 0, every.stderr
    assert "outbox: 4 pending, 0 given up, 6 delivered" in every.stdout
    assert "the newest 3 of 6 delivered notifications:" in every.stdout
    shown_ids = [int(line.split()[1]) for line in every.stdout.splitlines() if line.startswith("│")]
    assert shown_ids == sorted(ids[:6], reverse=True)[:3]

    pending = nyxmon("notify", "outbox", "--db", str(db))
    assert "4 pending notifications, newest first:" in pending.stdout
    with SqliteStore(db) as store:
        rest = [OutboxUpdate(i, "delivered", 1, 0.0, "", 2000.0) for i in ids[6:]]
        store.write_batch(WriteBatch(outbox_updates=rest))
    empty = nyxmon("notify", "outbox", "--db", str(db))
    assert "outbox: 0 pending, 0 given up, 10 delivered" in empty.stdout
    assert "no pending notifications (--status all lists every one)" in empty.stdout
    assert "┏" not in empty.stdout, "no empty table under a summary of other statuses"

    document = json.loads(
        nyxmon("notify", "outbox", "--db", str(db), "--json", "--limit", "2").stdout
    )
    assert document["counts"] == {"delivered": 10}
    assert document["items"] == []
    everything = json.loads(
        nyxmon(
            "notify", "outbox", "--db", str(db), "--json", "--status", "all", "--limit", "2"
        ).stdout
    )
    assert [item["id"] for item in everything["items"]] == sorted(ids, reverse=True)[:2]
    assert everything["items"][0]["check_id"] == "shop.cart"


def test_config_validate_reports_every_error_and_warning_in_one_run(tmp_path: Path) -> None:
    from tests.unit.config.test_one_round import EVERYTHING_WRONG

    path = tmp_path / "nyxmon.yaml"
    path.write_text(EVERYTHING_WRONG)
    done = narrow("config", "validate", str(path), columns=80)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert [line.split(": ", 2)[1] for line in lines[:-1]] == [
        "warning",
        "services[0].checks[0].interval",
        "services[0].checks[1].alert.escalate_to[0]",
        "services[0].checks[2].name",
    ], "one line per issue, never wrapped"
    assert lines[-1] == f"{path}: invalid: 3 errors, 1 warning"
