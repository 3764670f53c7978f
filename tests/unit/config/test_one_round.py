"""One run of ``config validate`` reports every error and warning of a file: nobody fixes a
file in rounds (schema first, then duplicates, then routes, then warnings)."""

from __future__ import annotations

from pathlib import Path

from nyxmon.config import format_report, validate_config_file

EVERYTHING_WRONG = """\
agent:
  concurrency: 5
  per_host_concurrency: 50
services:
  - name: web
    checks:
      - name: a
        type: http
        url: http://127.0.0.1:9/
        interval: fast
      - name: b
        type: http
        url: http://127.0.0.1:9/
        alert: {escalate_to: [pager], escalate_after: 5m}
      - name: b
        type: http
        url: http://127.0.0.1:9/
alerting:
  routes:
    - {name: ops, type: webhook, url: 'http://127.0.0.1:9/hook'}
"""


def test_a_schema_error_a_duplicate_a_bad_route_and_a_warning_come_in_one_report(
    tmp_path: Path,
) -> None:
    path = tmp_path / "nyxmon.yaml"
    path.write_text(EVERYTHING_WRONG)
    report = validate_config_file(path, environ={})
    found = [(issue.line, issue.path) for issue in report.errors]
    assert found == [
        (10, "services[0].checks[0].interval"),
        (14, "services[0].checks[1].alert.escalate_to[0]"),
        (15, "services[0].checks[2].name"),
    ]
    assert [(w.line, w.path) for w in report.warnings] == [(3, "agent.per_host_concurrency")]
    lines = format_report(report).splitlines()
    assert lines[0].startswith(f"{path}:3: warning: agent.per_host_concurrency:")
    assert lines[1].startswith(f"{path}:10: services[0].checks[0].interval: expected a duration")
    assert lines[-1] == f"{path}: invalid: 3 errors, 1 warning"


def write(tmp_path: Path, text: str) -> list[tuple[int | None, str, str]]:
    path = tmp_path / "nyxmon.yaml"
    path.write_text(text)
    report = validate_config_file(path, environ={})
    issues = [*report.errors, *report.warnings]
    return sorted((issue.line, issue.path, issue.message) for issue in issues)


def test_a_check_that_fails_the_schema_still_counts_as_a_duplicate(tmp_path: Path) -> None:
    issues = write(
        tmp_path,
        "services:\n  - name: web\n    checks:\n"
        "      - {name: a, type: http, url: 'http://x/'}\n"
        "      - {name: a, type: http, url: 5}\n",
    )
    assert [(line, path) for line, path, _ in issues] == [
        (5, "services[0].checks[1].name"),
        (5, "services[0].checks[1].url"),
    ]


def test_a_check_that_fails_the_schema_is_still_a_known_route_target(tmp_path: Path) -> None:
    issues = write(
        tmp_path,
        "services:\n  - name: web\n    checks:\n"
        "      - {name: a, type: http, url: 'http://x/', keyword: 5}\n"
        "alerting:\n  routes:\n"
        "    - {name: ops, type: webhook, url: 'http://x/', match: {checks: [web.a]}}\n",
    )
    assert [path for _, path, _ in issues] == ["services[0].checks[0].keyword"]


def test_a_route_with_a_bad_url_hides_neither_other_routes_nor_escalations_to_it(
    tmp_path: Path,
) -> None:
    issues = write(
        tmp_path,
        "services:\n  - name: web\n    checks:\n"
        "      - {name: a, type: http, url: 'http://x/', alert: {escalate_to: [ops, nope], "
        "escalate_after: 5m}}\n"
        "alerting:\n  routes:\n"
        "    - {name: ops, type: webhook, url: 'ftp://x/'}\n"
        "    - {name: ops2, type: webhook, url: 'http://x/', default: true}\n"
        "    - {name: ops3, type: webhook, url: 'http://x/', default: true}\n",
    )
    assert [(line, path) for line, path, _ in issues] == [
        (4, "services[0].checks[0].alert.escalate_to[1]"),
        (7, "alerting.routes[0].url"),
        (9, "alerting.routes[2].default"),
    ]


def test_a_mistyped_key_in_defaults_still_lets_the_timing_rules_run(tmp_path: Path) -> None:
    issues = write(
        tmp_path,
        "defaults: {interval: 30s, timout: 5s}\n"
        "services:\n  - name: web\n    checks:\n"
        "      - {name: a, type: http, url: 'http://x/', timeout: 40s}\n",
    )
    assert [(line, path) for line, path, _ in issues] == [
        (1, "defaults.timout"),
        (5, "services[0].checks[0].timeout"),
    ]


def test_a_bad_value_the_rules_read_keeps_them_from_judging_a_default(tmp_path: Path) -> None:
    issues = write(
        tmp_path,
        "defaults: {interval: often}\n"
        "services:\n  - name: web\n    checks:\n"
        "      - {name: a, type: http, url: 'http://x/', timeout: 90s}\n",
    )
    assert [path for _, path, _ in issues] == ["defaults.interval"]
