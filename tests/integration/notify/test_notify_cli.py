"""``nyxmon notify test``: the command function against real receivers, and the command line."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from tests.integration.notify.conftest import SECRET
from tests.servers.webhook_receiver import ThreadedWebhookReceiver

from nyxmon.cli.notify import send_test
from nyxmon.config.settings import LoadedConfig
from nyxmon.domain.alerting.types import Route


def consoles() -> tuple[Console, io.StringIO, Console, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Console(file=out, width=200), out, Console(file=err, width=200), err


def test_a_test_message_reaches_the_webhook_and_the_answer_is_printed() -> None:
    with ThreadedWebhookReceiver(secret=SECRET) as receiver:
        routes = [Route("ops", "webhook", webhook_url=receiver.url(), secret=SECRET)]
        out_console, out, err_console, err = consoles()
        code = send_test(
            "ops", routes, public_url="http://mon.test", out=out_console, errors=err_console
        )
        [doc] = receiver.state.accepted
    assert code == 0, err.getvalue()
    assert "route ops: webhook -> http://127.0.0.1:" in out.getvalue()
    assert 'delivered: HTTP 200 OK: {"ok": true}' in out.getvalue()
    assert doc["kind"] == "test"
    assert doc["test"] is True
    assert doc["title"] == "NyxMon test notification (ops)"
    assert doc["key"].startswith("test-")


def test_a_failing_receiver_makes_it_exit_1_with_the_providers_answer() -> None:
    with ThreadedWebhookReceiver(secret=SECRET) as receiver:
        receiver_state = receiver.state
        receiver_state.fail_status = 503
        routes = [Route("ops", "webhook", webhook_url=receiver.url(), secret=SECRET)]
        out_console, _, err_console, err = consoles()
        code = send_test(
            "ops", routes, public_url="http://mon.test", out=out_console, errors=err_console
        )
    assert code == 1
    assert "failed" in err.getvalue()
    assert "HTTP 503" in err.getvalue()
    assert "receiver says 503" in err.getvalue()


def test_an_apprise_route_is_tested_through_its_urls() -> None:
    with ThreadedWebhookReceiver() as receiver:
        url = receiver.url("/apprise").replace("http://", "json://")
        out_console, _out, err_console, err = consoles()
        code = send_test(
            "chat",
            [Route("chat", "apprise", urls=(url,))],
            public_url="http://mon.test",
            out=out_console,
            errors=err_console,
        )
        [doc] = receiver.state.accepted
    assert code == 0, err.getvalue()
    assert doc["type"] == "info"
    assert "If you can read it, the route works." in doc["message"]


def test_an_unknown_route_lists_the_known_ones_and_exits_1_like_every_not_found() -> None:
    routes = [Route("ops", "webhook", webhook_url="http://127.0.0.1:9/"), Route("chat", "apprise")]
    out_console, _, err_console, err = consoles()
    code = send_test("pager", routes, public_url="http://x", out=out_console, errors=err_console)
    assert code == 1
    assert "no route named 'pager'; known routes: ops, chat" in err.getvalue()


def test_a_route_that_cannot_be_built_exits_1_naming_it() -> None:
    out_console, _, err_console, err = consoles()
    code = send_test(
        "chat",
        [Route("chat", "apprise", urls=("nope://x",))],
        public_url="http://x",
        out=out_console,
        errors=err_console,
    )
    assert code == 1
    assert "route 'chat': urls[0] is not a URL Apprise can use" in err.getvalue()


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("NYXMON_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "nyxmon", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def minimal_config(path: Path, extra: str = "") -> Path:
    path.write_text(
        f"agent:\n  database: {path.parent / 'nyx.db'}\n"
        "services:\n  - name: web\n    checks:\n"
        "      - name: home\n        type: http\n        url: http://127.0.0.1:9/\n" + extra
    )
    return path


def test_the_command_line_names_the_unknown_route(tmp_path: Path) -> None:
    config = minimal_config(tmp_path / "nyxmon.yaml")
    result = run_cli("notify", "test", "ops", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ROUTE: no route named 'ops'" in result.stderr
    missing_check = run_cli("check", "show", "web.nope", "--config", str(config), cwd=tmp_path)
    assert missing_check.returncode == result.returncode, "not found exits alike everywhere"
    no_argument = run_cli("notify", "test", "--config", str(config), cwd=tmp_path)
    assert no_argument.returncode == 2, "a usage error is typer's 2"


@pytest.mark.skipif(
    "routes" not in LoadedConfig.__dataclass_fields__,
    reason="LoadedConfig.routes (the alerting config section) has not landed yet",
)
def test_the_command_line_sends_through_a_route_from_the_config(tmp_path: Path) -> None:
    with ThreadedWebhookReceiver(secret=SECRET) as receiver:
        config = minimal_config(
            tmp_path / "nyxmon.yaml",
            "alerting:\n  routes:\n"
            f"    - name: ops\n      type: webhook\n      url: {receiver.url()}\n"
            f"      secret: {SECRET}\n",
        )
        result = run_cli("notify", "test", "ops", "--config", str(config), cwd=tmp_path)
        accepted = list(receiver.state.accepted)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "delivered: HTTP 200 OK" in result.stdout
    assert [doc["kind"] for doc in accepted] == ["test"]


def test_notify_routes_says_when_none_are_configured(tmp_path: Path) -> None:
    config = minimal_config(tmp_path / "nyxmon.yaml")
    result = run_cli("notify", "routes", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no alert routes are configured" in result.stdout


def test_notify_test_without_a_config_file_names_the_option(tmp_path: Path) -> None:
    result = run_cli("notify", "test", "ops", cwd=tmp_path)
    assert result.returncode == 1
    assert "--config: no config file" in result.stderr
