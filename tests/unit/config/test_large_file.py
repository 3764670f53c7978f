"""A generated file of 5,000 checks loads completely (its load time is measured in bench/)."""

from __future__ import annotations

from pathlib import Path

from nyxmon.config import load_config


def generate(services: int, checks_per_service: int) -> str:
    """A config with ``services * checks_per_service`` http, json and dns checks."""
    lines = ["defaults: {interval: 1m, timeout: 10s}", "services:"]
    for s in range(services):
        lines += [f"  - name: service {s}", "    labels: {team: load}", "    checks:"]
        for c in range(checks_per_service):
            kind = c % 3
            lines.append(f"      - name: check {c}")
            if kind == 2:
                lines += [
                    "        type: dns",
                    f"        query_name: host{c}.demo.nyxmon.test",
                    "        server: 127.0.0.1",
                    "        port: 8053",
                ]
            else:
                lines += [
                    f"        type: {'http' if kind == 0 else 'json'}",
                    f"        url: http://127.0.0.1:8090/healthy?c={c}",
                    "        interval: 30s",
                    '        conditions: ["[STATUS] == 200", "[RESPONSE_TIME] < 500"]',
                ]
    return "\n".join(lines) + "\n"


def test_five_thousand_checks_load_with_unique_ids(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    text = generate(100, 50)
    path.write_text(text)
    config = load_config(path, environ={})
    assert len(config.services) == 100
    assert len(config.checks) == 5000
    assert len({check.id for check in config.checks}) == 5000
    lines = text.splitlines()
    last_line = lines.index("      - name: check 49", lines.index("  - name: service 99")) + 1
    assert config.check_lines["service-99.check-49"] == last_line
