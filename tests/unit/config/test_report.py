"""``validate_config_file`` and ``format_report``: what ``nyxmon config validate`` prints."""

from __future__ import annotations

from pathlib import Path

from nyxmon.config import format_report, validate_config_file

from .conftest import FIXTURES
from .test_load import EXAMPLE


def test_valid_file_reports_ok_with_a_summary() -> None:
    report = validate_config_file(EXAMPLE, environ={})
    assert report.ok
    assert report.errors == ()
    assert report.config is not None
    assert report.summary == "4 services, 9 checks (http: 5, dns: 1, json: 1, tcp: 1, udp: 1)"
    assert format_report(report) == f"{EXAMPLE}: valid: {report.summary}"


def test_invalid_file_reports_every_error_then_a_count() -> None:
    path = FIXTURES / "bad" / "many_errors.yaml"
    report = validate_config_file(path, environ={})
    assert not report.ok
    assert report.config is None
    lines = format_report(report).splitlines()
    assert len(lines) == 5
    assert lines[0].startswith(f"{path}:7: agent.retention.raw: ")
    assert lines[-1] == f"{path}: invalid: 4 errors"


def test_warnings_are_printed_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "nyxmon.yaml"
    path.write_text("services:\n  - name: Lonely\n")
    report = validate_config_file(path, environ={})
    assert report.ok
    assert format_report(report).splitlines() == [
        f'{path}:2: warning: services[0]: service "Lonely" has no checks',
        f"{path}: valid: 1 service, 0 checks",
    ]


def test_missing_file_is_a_report_not_an_exception(tmp_path: Path) -> None:
    report = validate_config_file(tmp_path / "absent.yaml", environ={})
    assert not report.ok
    (issue,) = report.errors
    assert str(issue) == f"{tmp_path / 'absent.yaml'}: cannot read: No such file or directory"


def test_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"services: []\n# caf\xe9\n")
    (issue,) = validate_config_file(path, environ={}).errors
    assert issue.line == 2
    assert "not valid UTF-8" in issue.message


def test_directory_instead_of_file_is_reported(tmp_path: Path) -> None:
    (issue,) = validate_config_file(tmp_path, environ={}).errors
    assert "cannot read" in issue.message
