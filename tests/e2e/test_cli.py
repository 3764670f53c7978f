"""The ``nyxmon`` commands as a user types them, in their own processes."""

from __future__ import annotations

import signal
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from nyxmon.errors import SchemaVersionError
from nyxmon.store.sqlite.store import SqliteStore
from tests.e2e.conftest import AgentProcess, free_port, nyxmon, result_count, wait_for, write_config
from tests.servers.http_target import HttpTarget

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "nyxmon.yaml"


def test_config_validate_summarises_a_good_file() -> None:
    done = nyxmon("config", "validate", str(EXAMPLE))
    assert done.returncode == 0, done.stderr
    assert "valid" in done.stdout
    assert "checks" in done.stdout


def test_config_validate_prints_every_error_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "agent:\n  concurency: 5\nservices:\n  - name: web\n    checks:\n"
        "      - name: a\n        type: http\n        url: http://x/\n"
        "        conditions: ['[STATUS] = 200']\n"
    )
    done = nyxmon("config", "validate", str(bad))
    assert done.returncode == 1
    assert "bad.yaml:2: agent.concurency" in done.stderr
    assert "did you mean" in done.stderr
    assert "bad.yaml:9: services[0].checks[0].conditions[0]" in done.stderr


def test_config_validate_names_a_missing_file(tmp_path: Path) -> None:
    done = nyxmon("config", "validate", str(tmp_path / "nope.yaml"))
    assert done.returncode == 1
    assert "nope.yaml" in done.stderr


def test_checks_can_be_added_listed_paused_resumed_and_removed(
    tmp_path: Path, target: HttpTarget
) -> None:
    db = str(tmp_path / "cli.db")
    added = nyxmon(
        "check",
        "add",
        "--db",
        db,
        "--service",
        "shop",
        "--name",
        "Front page",
        "--type",
        "http",
        "--set",
        f"url={target.url('/health')}",
        "--condition",
        "[STATUS] == 200",
        "--interval",
        "30s",
        "--label",
        "team=web",
    )
    assert added.returncode == 0, added.stderr
    assert "added check shop.front-page" in added.stdout

    listed = nyxmon("check", "list", "--db", db)
    assert "shop.front-page" in listed.stdout
    assert "pending" in listed.stdout

    assert nyxmon("check", "pause", "shop.front-page", "--db", db).returncode == 0
    assert "paused" in nyxmon("check", "list", "--db", db).stdout
    assert nyxmon("check", "resume", "shop.front-page", "--db", db).returncode == 0

    shown = nyxmon("check", "show", "shop.front-page", "--db", db)
    assert "[STATUS] == 200" in shown.stdout
    assert "team=web" in shown.stdout

    removed = nyxmon("check", "remove", "shop.front-page", "--db", db)
    assert removed.returncode == 0, removed.stderr
    assert "shop.front-page" not in nyxmon("check", "list", "--db", db).stdout


@pytest.mark.parametrize(
    ("args", "culprit"),
    [
        pytest.param(
            ["--set", "bogus=1", "--set", "url=http://x/"], "--set bogus", id="unknown-key"
        ),
        pytest.param(["--set", "url=ftp://x"], "--set url", id="bad-url"),
        pytest.param(
            ["--set", "url=http://x/", "--interval", "often"], "--interval", id="interval"
        ),
        pytest.param(
            ["--set", "url=http://x/", "--condition", "[STATUS] ="], "--condition", id="condition"
        ),
        pytest.param(["--set", "url"], "--set: expected KEY=VALUE", id="no-equals"),
    ],
)
def test_a_bad_check_add_names_the_option_and_stores_nothing(
    tmp_path: Path, args: list[str], culprit: str
) -> None:
    db = tmp_path / "cli.db"
    done = nyxmon(
        "check", "add", "--db", str(db), "--service", "s", "--name", "n", "--type", "http", *args
    )
    assert done.returncode == 1
    assert culprit in done.stderr
    if db.exists():
        with SqliteStore(db, readonly=True) as store:
            assert store.list_checks().total == 0


def test_config_checks_cannot_be_removed_from_the_cli(
    tmp_path: Path, target: HttpTarget, agents: Callable[..., AgentProcess]
) -> None:
    db = tmp_path / "nyxmon.db"
    config = write_config(
        tmp_path / "nyxmon.yaml", db, f"      - {{name: a, type: http, url: '{target.url('/')}'}}\n"
    )
    agent = agents("run", "--config", str(config))
    wait_for(lambda: result_count(db) >= 1)
    done = nyxmon("check", "remove", "web.a", "--config", str(config))
    assert done.returncode == 1
    assert "comes from the config file" in done.stderr
    agent.signal(signal.SIGTERM)
    assert agent.wait(30) == 0


def test_check_run_prints_results_and_fails_when_a_check_fails(
    tmp_path: Path, target: HttpTarget
) -> None:
    db = str(tmp_path / "cli.db")
    for name, path in (("good", "/health"), ("bad", "/status/500")):
        assert (
            nyxmon(
                "check",
                "add",
                "--db",
                db,
                "--service",
                "s",
                "--name",
                name,
                "--type",
                "http",
                "--set",
                f"url={target.url(path)}",
            ).returncode
            == 0
        )
    good = nyxmon("check", "run", "s.good", "--db", db)
    assert good.returncode == 0, good.stderr
    assert "ok" in good.stdout
    assert "1 of 1 passed" in good.stdout
    both = nyxmon("check", "run", "--all", "--db", db)
    assert both.returncode == 1
    assert "500" in both.stdout
    assert "1 of 2 passed" in both.stdout
    missing = nyxmon("check", "run", "s.nope", "--db", db)
    assert missing.returncode == 1
    assert "no check with id 's.nope'" in missing.stderr


def test_results_and_db_info_name_what_is_missing(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    nyxmon(
        "check",
        "add",
        "--db",
        db,
        "--service",
        "s",
        "--name",
        "n",
        "--type",
        "http",
        "--set",
        "url=http://127.0.0.1:9/",
    )
    info = nyxmon("db", "info", "--db", db)
    assert info.returncode == 0, info.stderr
    assert "schema version" in info.stdout
    nothing = nyxmon("results", "s.nope", "--db", db)
    assert nothing.returncode == 1
    assert "CHECK: no check with id 's.nope'" in nothing.stderr
    bad_since = nyxmon("results", "s.n", "--db", db, "--since", "yesterday")
    assert bad_since.returncode == 1
    assert "--since" in bad_since.stderr


# Each check first runs at its stable phase within its interval (up to 30 s here).
@pytest.mark.timeout(150)
def test_demo_runs_the_bundled_example_against_the_demo_target(
    tmp_path: Path, agents: Callable[..., AgentProcess]
) -> None:
    http_port, dns_port = free_port(), free_port()
    text = EXAMPLE.read_text().replace("127.0.0.1:8090", f"127.0.0.1:{http_port}")
    text = text.replace("port: 8053", f"port: {dns_port}").replace(
        "port: 8090", f"port: {http_port}"
    )
    text = text.replace("${NYXMON_LISTEN:-127.0.0.1:8080}", f"127.0.0.1:{free_port()}")
    config = tmp_path / "nyxmon.yaml"
    config.write_text(text)
    db = tmp_path / "var" / "nyxmon.db"
    demo = agents(
        "demo", "--config", str(config), "--http-port", str(http_port), "--dns-port", str(dns_port)
    )
    expected = {
        "demo-website.homepage": ("ok", False),
        "demo-website.slow-page": ("ok", True),
        "demo.failing": ("fail", False),
        "demo-api.health-endpoint": ("ok", False),
        "demo-dns.apex-a-record": ("ok", False),
        "demo-network.web-port": ("ok", False),
        "demo-network.dns-port": ("ok", False),
    }

    def all_ran() -> bool:
        if not db.exists():
            return False
        try:
            with SqliteStore(db, readonly=True) as store:
                return set(expected) <= set(store.latest_results())
        except SchemaVersionError:  # the agent is still creating the schema
            return False

    wait_for(all_ran, timeout=100, what="every demo check to run")
    with SqliteStore(db, readonly=True) as store:
        latest = {k: v.result for k, v in store.latest_results().items()}
    for check_id, (outcome, degraded) in expected.items():
        assert latest[check_id].outcome.value == outcome, (check_id, latest[check_id].message)
        assert latest[check_id].degraded is degraded, check_id
    page = urllib.request.urlopen(f"http://127.0.0.1:{http_port}/healthy", timeout=5)
    assert page.read() == b"ok"
    demo.signal(signal.SIGINT)
    assert demo.wait(30) == 0, demo.output()
