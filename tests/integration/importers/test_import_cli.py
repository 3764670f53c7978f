"""``nyxmon import ...`` as a subprocess: YAML on stdout or in ``-o``, the summary on stderr, the
output accepted by ``nyxmon config validate``, ``--strict`` and bad sources."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tests.unit.importers.test_nyxmon01 import TELEGRAM, build_database

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "imports"
GATUS_ENV = {"API_TOKEN": "t0ken-value", "CUSTOM_KEY": "k3y-value", "BACKUP_PUSH_TOKEN": "p"}


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
    for name in ("NYXMON_CONFIG", "TELEGRAM_BOT_TOKEN", "TELEGRAM_CHAT_ID"):
        if name not in (env or {}):
            full.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "nyxmon", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


#: The types each source's live checks must include: every source type with a NyxMon type
#: is written live (push, issue 16, may or may not be registered, so it is not listed).
GATUS_TYPES = {"dns", "grpc", "http", "icmp", "json", "smtp", "ssh", "tcp", "tls", "udp"}
KUMA_TYPES = {"dns", "grpc", "http", "icmp", "json", "mqtt", "mysql", "postgres", "redis"}
NYXMON01_TYPES = {"dns", "http", "icmp", "imap", "json", "smtp", "tcp"}


@pytest.mark.parametrize(
    ("tool", "source", "env", "first_line", "types"),
    [
        pytest.param(
            "gatus",
            "gatus.yaml",
            GATUS_ENV,
            "import from Gatus config gatus.yaml",
            GATUS_TYPES | {"websocket"},
            id="gatus",
        ),
        pytest.param(
            "uptime-kuma",
            "uptime-kuma.json",
            {},
            "import from Uptime Kuma 1.23.16 backup uptime-kuma.json",
            KUMA_TYPES | {"smtp", "tcp", "websocket"},
            id="uptime-kuma",
        ),
        pytest.param(
            "nyxmon-0.1",
            None,
            TELEGRAM,
            "import from NyxMon 0.1 database db.sqlite3",
            NYXMON01_TYPES,
            id="nyxmon-0.1",
        ),
    ],
)
def test_the_yaml_on_stdout_validates_and_the_summary_is_on_stderr(
    tmp_path: Path,
    tool: str,
    source: str | None,
    env: dict[str, str],
    first_line: str,
    types: set[str],
) -> None:
    path = FIXTURES / source if source else build_database(tmp_path / "db.sqlite3")
    result = run_cli("import", tool, str(path), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# NyxMon config imported from ")
    assert result.stderr.startswith(first_line)
    assert "approximated:" in result.stderr
    assert "dropped:" in result.stderr
    out = tmp_path / "nyxmon.yaml"
    out.write_text(result.stdout)
    validated = run_cli("config", "validate", str(out), cwd=tmp_path, env=env)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "valid:" in validated.stdout
    live = {
        check["type"]
        for service in yaml.safe_load(result.stdout)["services"]
        for check in service.get("checks") or []
    }
    assert types <= live, types - live
    held = set(re.findall(r"needs check type (\S+)", result.stdout))
    assert held <= {"push"}, held


def test_output_goes_to_the_file_given_with_o(tmp_path: Path) -> None:
    out = tmp_path / "imported.yaml"
    result = run_cli(
        "import", "uptime-kuma", str(FIXTURES / "uptime-kuma.json"), "-o", str(out), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert out.read_text().startswith("# NyxMon config imported from Uptime Kuma backup")
    assert f"wrote {out}" in result.stderr


def test_strict_fails_on_any_approximation_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "imported.yaml"
    result = run_cli(
        "import",
        "gatus",
        str(FIXTURES / "gatus.yaml"),
        "--strict",
        "-o",
        str(out),
        cwd=tmp_path,
        env=GATUS_ENV,
    )
    assert result.returncode == 1
    assert "--strict: something was approximated or dropped; nothing written" in result.stderr
    assert not out.exists()
    assert result.stdout == ""


def test_strict_passes_a_config_that_maps_exactly(tmp_path: Path) -> None:
    source = tmp_path / "config.yaml"
    source.write_text(
        "endpoints:\n"
        "  - name: website\n    group: core\n    url: https://example.org/health\n"
        "    interval: 30s\n    conditions: ['[STATUS] == 200', '[RESPONSE_TIME] < 300']\n"
        "  - name: dns\n    group: core\n    url: 8.8.8.8\n"
        "    dns: {query-name: example.org, query-type: A}\n"
        "    conditions: ['[DNS_RCODE] == NOERROR']\n"
    )
    result = run_cli("import", "gatus", str(source), "--strict", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2 mapped, 0 approximated, 0 dropped" in result.stderr
    assert "- name: website" in result.stdout


def test_the_bot_token_of_an_imported_telegram_route_is_never_printed(tmp_path: Path) -> None:
    result = run_cli("import", "uptime-kuma", str(FIXTURES / "uptime-kuma.json"), cwd=tmp_path)
    assert "AAFakeTokenForKumaImport" not in result.stderr
    db = build_database(tmp_path / "db.sqlite3")
    original = run_cli("import", "nyxmon-0.1", str(db), cwd=tmp_path, env=TELEGRAM)
    token = TELEGRAM["TELEGRAM_BOT_TOKEN"]
    assert token not in original.stdout + original.stderr
    assert token.split(":")[1] not in original.stdout + original.stderr


@pytest.mark.parametrize(
    ("tool", "name", "content", "message"),
    [
        pytest.param("gatus", "missing.yaml", None, "FILE: no such file", id="missing"),
        pytest.param(
            "gatus",
            "bad.yaml",
            "endpoints:\n  - name: a\n    url: [\n",
            "bad.yaml:4: not valid YAML",
            id="yaml",
        ),
        pytest.param(
            "uptime-kuma", "bad.json", "[1, 2]", "not an Uptime Kuma backup", id="not-kuma"
        ),
        pytest.param("nyxmon-0.1", "missing.db", None, "DB: no such file", id="missing-db"),
        pytest.param(
            "nyxmon-0.1",
            "text.db",
            "hello" * 200,
            "not a readable SQLite database",
            id="not-sqlite",
        ),
    ],
)
def test_a_bad_source_exits_1_naming_it(
    tmp_path: Path, tool: str, name: str, content: str | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    result = run_cli("import", tool, str(path), cwd=tmp_path)
    assert result.returncode == 1
    assert message in result.stderr
    assert result.stdout == ""
