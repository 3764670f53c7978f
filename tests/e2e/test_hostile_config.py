"""Hostile config files and options given to the real ``nyxmon`` commands, in their own processes.

Each is refused with exit code 1 and a message naming file, line and key path, never a
traceback, and within a bounded amount of memory: the child's peak RSS, read from ``wait4``
(a resource bound, not a timing).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from nyxmon.store.sqlite.store import SqliteStore
from tests.e2e.conftest import AgentProcess, result_count, wait_for, write_config
from tests.servers.http_target import HttpTarget

MAX_RSS_MB = 200
CHECK = "services:\n  - name: Web\n    checks:\n      - name: home\n        type: http\n"
CHECK += "        url: http://127.0.0.1:9/\n"


@dataclass(frozen=True)
class Finished:
    returncode: int
    output: str
    peak_rss_mb: float


#: Runs ``argv[2:]`` as its own child and writes that child's peak RSS in KiB to fd ``argv[1]``.
#: Linux starts a child's peak at its parent's high-water mark (``exec`` folds the old memory's
#: peak into the process's ``maxrss``), so measuring a direct child of pytest, which holds
#: hundreds of MB of test modules, measures pytest; a small launcher in between measures only
#: ``nyxmon``.
_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
os.write(int(sys.argv[1]), str(usage.ru_maxrss).encode())
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(tmp_path: Path, *args: str) -> Finished:
    """``nyxmon ARGS`` to completion, with its own peak RSS (not the test process's)."""
    log = tmp_path / "out.log"
    read_end, write_end = os.pipe()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _LAUNCHER,
                str(write_end),
                sys.executable,
                "-m",
                "nyxmon",
                *args,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "COLUMNS": "200"},
            pass_fds=(write_end,),
        )
        os.close(write_end)
        with os.fdopen(read_end) as peak:
            peak_kib = int(peak.read())
        returncode = proc.wait()
    return Finished(returncode, log.read_text(), peak_kib / 1024)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def _bomb() -> str:
    text = "x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    previous = "a"
    for name in "bcdefghi":
        text += f"x-{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
        previous = name
    return text + CHECK


def _big() -> str:
    one = "  - name: S{i}\n    checks:\n      - {{name: c, type: http, url: 'http://127.0.0.1:9/{i}'}}\n"
    return "services:\n" + "".join(one.format(i=i) for i in range(120_000))


HOSTILE = [
    pytest.param(
        CHECK + "        interval: 1" + "0" * 400 + "\n",
        "f.yaml:7: services[0].checks[0].interval: expected a duration of at most 365d",
        id="interval-of-401-digits",
    ),
    pytest.param(
        CHECK + "        interval: 99999999999999999999999999999d\n",
        "f.yaml:7: services[0].checks[0].interval: expected a duration of at most 365d",
        id="interval-in-days",
    ),
    pytest.param(
        CHECK + "        timeout: 1e400\n",
        "f.yaml:7: services[0].checks[0].timeout: expected a duration of at most 1d",
        id="timeout-infinite",
    ),
    pytest.param(
        CHECK + "        paused: yes\n",
        'f.yaml:7: services[0].checks[0].paused: expected true or false, got "yes"',
        id="paused-yes",
    ),
    pytest.param(
        CHECK + "x-deep: " + "[" * 5000 + "]" * 5000 + "\n",
        "f.yaml:7: x-deep[0][0]",
        id="nested-5000",
    ),
    pytest.param(
        CHECK + "x-deep: " + "[" * 1_000_000 + "]" * 1_000_000 + "\n",
        "nested more than 64 lists and mappings deep",
        id="nested-a-million",
    ),
    pytest.param(
        CHECK + "x-deep:\n" + "".join(" " * (2 * i + 2) + "- \n" for i in range(500)),
        "nested more than 64 lists and mappings deep",
        id="nested-block-list",
    ),
    pytest.param(_bomb(), "f.yaml:6: x-f[6]: aliases here would expand the document", id="bomb"),
    pytest.param(
        CHECK + "x-flat: [" + "1," * 1_900_000 + "1]\n",
        "f.yaml:7: x-flat[499983]: the document has more than 500,000 values",
        id="two-million-values",
    ),
    pytest.param(_big(), "f.yaml: the file is larger than 4 MiB", id="ten-megabytes"),
]


@pytest.mark.parametrize(("text", "message"), HOSTILE)
def test_config_validate_refuses_hostile_files_clearly_within_bounded_memory(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(text)
    done = run_measured(tmp_path, "config", "validate", str(path))
    output = done.output.replace(str(tmp_path) + "/", "")
    assert done.returncode == 1, output
    assert message in output, output[-2000:]
    assert "Traceback" not in output
    assert done.peak_rss_mb < MAX_RSS_MB, f"peak RSS {done.peak_rss_mb:.0f} MB"


def test_run_refuses_to_start_on_a_hostile_file(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(_bomb())
    done = run_measured(tmp_path, "run", "--config", str(path))
    assert done.returncode == 1, done.output
    assert "f.yaml:6: x-f[6]: aliases here would expand the document" in done.output
    assert "Traceback" not in done.output
    assert done.peak_rss_mb < MAX_RSS_MB


def test_a_hostile_reload_is_refused_and_the_running_config_kept(
    tmp_path: Path, target: HttpTarget, agents: Callable[..., AgentProcess]
) -> None:
    db = tmp_path / "nyxmon.db"
    path = tmp_path / "nyxmon.yaml"
    write_config(path, db, f"      - {{name: a, type: http, url: '{target.url('/health')}'}}\n")
    agent = agents("run", "--config", str(path))
    wait_for(lambda: result_count(db, "web.a") >= 1, what="the first check")
    # The web plane's own process reads the file as it starts: let it, before spoiling it.
    port = re.search(r"listen: '127.0.0.1:(\d+)'", path.read_text())
    assert port is not None
    wait_for(lambda: _answers(f"http://127.0.0.1:{port.group(1)}/healthz"), what="the web plane")

    good = path.read_text()
    path.write_text(good.replace("interval: 1s", "interval: 99999999999999999999999999999d"))
    agent.signal(signal.SIGHUP)
    wait_for(lambda: "reload refused" in agent.output(), what="the first refusal")
    assert "nyxmon.yaml:5: defaults.interval: expected a duration of at most 365d" in (
        agent.output()
    )

    path.write_text(_bomb().replace(CHECK, "") + good)
    agent.signal(signal.SIGHUP)
    refusals = agent.output().count("still running the previous config")
    wait_for(
        lambda: agent.output().count("still running the previous config") > refusals,
        what="the second refusal",
    )
    assert "aliases here would expand the document" in agent.output()

    runs = result_count(db, "web.a")
    wait_for(lambda: result_count(db, "web.a") > runs, what="the old config to keep running")
    assert agent.alive()
    agent.signal(signal.SIGTERM)
    assert agent.wait(30) == 0
    assert "Traceback" not in agent.output()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--interval", "99999999999999999999999999999d"],
            "--interval: expected a duration of at most 365d",
            id="interval",
        ),
        pytest.param(
            ["--timeout", "1" + "0" * 400],
            "--timeout: expected a duration of at most 1d",
            id="timeout",
        ),
        pytest.param(
            ["--set", "follow_redirects=yes"],
            '--set follow_redirects: expected true or false, got "yes"',
            id="yes",
        ),
        pytest.param(
            ["--set", "method=POST", "--set", "json_body=" + "[" * 5000 + "]" * 5000],
            "--set json_body: nested more than 64 lists and mappings deep",
            id="nested",
        ),
        pytest.param(
            ["--set", "max_body_bytes=" + "9" * 400],
            "--set max_body_bytes: expected a number of at most 67108864",
            id="body-bytes",
        ),
    ],
)
def test_check_add_refuses_hostile_options_and_stores_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    db = tmp_path / "cli.db"
    done = run_measured(
        tmp_path,
        "check", "add", "--db", str(db), "--service", "s", "--name", "n", "--type", "http",
        "--set", "url=http://127.0.0.1:9/", *args,
    )  # fmt: skip
    assert done.returncode == 1, done.output
    assert message in done.output
    assert "Traceback" not in done.output
    assert done.peak_rss_mb < MAX_RSS_MB
    if db.exists():
        with SqliteStore(db, readonly=True) as store:
            assert store.list_checks().total == 0
