from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nyxmon.store.sqlite.store import SqliteStore
from tests.servers.http_target import HttpTarget, ThreadedHttpTarget


def nyxmon(
    *args: str, timeout: float = 60, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``nyxmon ARGS`` to completion (no stdin, like CI)."""
    return subprocess.run(
        [sys.executable, "-m", "nyxmon", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )


class AgentProcess:
    """``nyxmon run`` (or ``demo``) as a child process; its output goes to a log file."""

    def __init__(self, args: list[str], log: Path, cwd: Path | None = None) -> None:
        self.log = log
        self._out = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nyxmon", *args],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env={**os.environ, "COLUMNS": "200"},
        )

    def output(self) -> str:
        return self.log.read_text()

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 30) -> int:
        code = self.proc.wait(timeout)
        self._out.close()
        return code

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
            self.proc.wait(10)
        self._out.close()


def wait_for(predicate: Callable[[], object], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.05)


def result_count(db: Path, check_id: str | None = None) -> int:
    """Committed results, read the way another process would (0 before the file exists)."""
    if not db.exists():
        return 0
    try:
        with SqliteStore(db, readonly=True) as store:
            return store.count_results(check_id)
    except Exception:
        return 0  # mid-migration on the very first start


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def target() -> Iterator[HttpTarget]:
    with ThreadedHttpTarget() as running:
        yield running


@pytest.fixture
def agents(tmp_path: Path) -> Iterator[Callable[..., AgentProcess]]:
    started: list[AgentProcess] = []

    def start(*args: str, cwd: Path | None = None) -> AgentProcess:
        process = AgentProcess(list(args), tmp_path / f"agent-{len(started)}.log", cwd)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.alive():
            process.signal(signal.SIGKILL)
        process.kill()


def web_section() -> str:
    """A web section on a free port: the agent serves its dashboard, and tests must not fight
    over (or take from a developer) the default 8080."""
    return f"web: {{listen: '127.0.0.1:{free_port()}'}}\n"


def write_config(path: Path, db: Path, checks_yaml: str, *, grace: str = "10s") -> Path:
    path.write_text(
        web_section() + f"agent:\n  database: {db}\n  shutdown_grace: {grace}\n"
        "defaults: {interval: 1s, timeout: 900ms}\n"
        f"services:\n  - name: web\n    checks:\n{checks_yaml}"
    )
    return path
