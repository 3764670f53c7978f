"""``/metrics`` of a running agent passes ``promtool check metrics`` (Prometheus' own linter).

A real ``nyxmon run`` probes several checks of every type (HTTP, JSON, DNS; passing and failing)
against loopback peers; the scrape is taken once every check has results, so every family
(per-check histograms, the agent's own histograms and their quantile summaries) is in it.
promtool comes from Debian's ``prometheus`` package (``scripts/install-system``).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import AgentProcess, free_port, result_count, wait_for
from tests.servers.dns_server import DnsTestServer
from tests.servers.http_target import HttpTarget

PROMTOOL = shutil.which("promtool")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        PROMTOOL is None,
        reason="promtool is not installed (scripts/install-system installs Debian's prometheus)",
    ),
]


def _config(folder: Path, target: HttpTarget, dns_port: int, port: int) -> Path:
    dns = f"server: 127.0.0.1, port: {dns_port}"
    checks = {
        "home": f"type: http, url: '{target.url('/health')}'",
        "slow": f"type: http, url: '{target.url('/slow')}', max_response_time: 0.01",
        "broken": f"type: http, url: '{target.url('/status/503')}'",
        "health": f"type: json, url: '{target.url('/json')}', conditions: ['[BODY].status == UP']",
        "health-down": (
            f"type: json, url: '{target.url('/json/down')}', conditions: ['[BODY].status == UP']"
        ),
        "apex": f"type: dns, query_name: example.test, record_type: A, {dns}",
        "mail": f"type: dns, query_name: example.test, record_type: MX, {dns}",
        "missing": f"type: dns, query_name: nope.example.test, {dns}",
    }
    lines = "".join(f"      - {{name: {name}, {spec}}}\n" for name, spec in checks.items())
    path = folder / "nyxmon.yaml"
    path.write_text(
        f"agent: {{database: {folder / 'nyxmon.db'}, shutdown_grace: 2s}}\n"
        f"web: {{listen: '127.0.0.1:{port}'}}\n"
        "defaults: {interval: 1s, timeout: 900ms}\n"
        f"services:\n  - name: mixed\n    checks:\n{lines}"
    )
    return path


def test_metrics_of_a_running_agent_pass_promtool(
    tmp_path: Path, target: HttpTarget, agents: Callable[..., AgentProcess]
) -> None:
    assert PROMTOOL is not None
    port = free_port()
    with DnsTestServer() as dns:
        config = _config(tmp_path, target, dns.port, port)
        agent = agents("run", "--config", str(config))
        db = tmp_path / "nyxmon.db"
        ids = ["home", "slow", "broken", "health", "health-down", "apex", "mail", "missing"]
        wait_for(
            lambda: all(result_count(db, f"mixed.{name}") >= 2 for name in ids),
            timeout=60,
            what="two results of every check",
        )
        wait_for(lambda: "dashboard:" in agent.output(), what="the web plane")
        body = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert agent.alive(), agent.output()
    for family in ("nyxmon_check_duration_seconds", "nyxmon_store_batch_seconds_quantile"):
        assert f"# TYPE {family} " in body
    assert 'nyxmon_check_up{check="mixed.missing"}' in body
    checked = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=body, capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
