"""Shared parts of the crash-loop and fault tests: a real agent process, its /healthz and
/metrics, the store read back through its read API, a webhook receiver that can go away and
come back on the same port, and a private mount namespace holding a small file system.

Results are read through :class:`~nyxmon.store.sqlite.SqliteStore` (never SQL on the results
table), so these tests hold whatever the table's layout becomes.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from nyxmon.service_layer.records.alerts import OutboxEntry
from nyxmon.store.sqlite import SqliteStore
from tests.e2e.conftest import free_port, wait_for
from tests.servers.http_target import HttpTarget, ThreadedHttpTarget
from tests.servers.webhook_receiver import ReceiverState, serve_webhook_receiver

__all__ = [
    "Agent",
    "MountNamespace",
    "RestartableReceiver",
    "ResultKey",
    "committed_results",
    "integrity",
    "outbox",
    "problems_of",
    "wait_for",
    "write_fault_round_trip",
]

ResultKey = tuple[str, float, float]
"""A stored result's identity: check id, scheduled_at, started_at."""


class Agent:
    """A ``nyxmon run`` child process (its output in a log file) with its web plane on
    ``port``."""

    def __init__(self, command: list[str], log: Path, port: int, env: dict[str, str]) -> None:
        self.log = log
        self.port = port
        self._out = log.open("w")
        self.proc = subprocess.Popen(
            command, stdout=self._out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )

    def output(self) -> str:
        return self.log.read_text()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL (kill -9), and wait for it to be gone."""
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._out.close()

    def stop(self, expect: int = 0) -> None:
        """SIGTERM, which must end it with exit code ``expect`` (0: cleanly)."""
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(60)
        self._out.close()
        assert code == expect, self.output()[-3000:]

    def get(self, path: str) -> tuple[int, Any]:
        """``GET path`` on the web plane: status and JSON body (``(0, None)`` if unreachable)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return r.status, _decode(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, _decode(exc.read())
        except OSError:
            return 0, None

    def health(self) -> tuple[int, dict[str, Any]]:
        code, body = self.get("/healthz")
        return code, body if isinstance(body, dict) else {}

    def metric(self, name: str) -> float | None:
        """The sum of every sample of ``name`` on /metrics (``None``: not answered)."""
        code, text = self.get("/metrics")
        if code != 200 or not isinstance(text, str):
            return None
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name) and line[len(name) : len(name) + 1] in ("{", " "):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def wait_ready(self, timeout: float = 60) -> None:
        wait_for(
            lambda: self.health()[0] == 200 or not self.alive(),
            timeout,
            "the agent to answer /healthz with 200",
        )
        assert self.alive(), self.output()[-3000:]


def _decode(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body.decode(errors="replace")


@pytest.fixture
def start_agent(tmp_path: Path) -> Iterator[Callable[..., Agent]]:
    """Starts ``nyxmon run -c CONFIG`` (optionally behind a command prefix, like ``nsenter``,
    and with extra environment); every agent still running at the end is killed."""
    started: list[Agent] = []

    def start(
        config: Path, port: int, *, prefix: tuple[str, ...] = (), env: dict[str, str] | None = None
    ) -> Agent:
        command = [*prefix, sys.executable, "-m", "nyxmon", "run", "-c", str(config)]
        environ = {**os.environ, "COLUMNS": "200", **(env or {})}
        agent = Agent(command, tmp_path / f"agent-{len(started)}.log", port, environ)
        started.append(agent)
        return agent

    yield start
    for agent in started:
        agent.kill()


def committed_results(db: Path) -> set[ResultKey]:
    """Every result the store holds, read through its read API."""
    keys: set[ResultKey] = set()
    with SqliteStore(db, readonly=True) as store:
        for check in store.list_checks().items:
            cursor = None
            while True:
                page = store.results(check.id, limit=1000, after=cursor)
                for stored in page.items:
                    r = stored.result
                    keys.add((r.check_id, r.scheduled_at, r.started_at))
                cursor = page.next_cursor
                if cursor is None:
                    break
    return keys


def results_of(db: Path, check_id: str) -> list[Any]:
    """A check's stored results, oldest first."""
    found: list[Any] = []
    with SqliteStore(db, readonly=True) as store:
        cursor = None
        while True:
            page = store.results(check_id, limit=1000, after=cursor)
            found.extend(stored.result for stored in page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
    return sorted(found, key=lambda r: r.scheduled_at)


def outbox(db: Path) -> list[OutboxEntry]:
    """Every outbox row, oldest first."""
    rows: list[OutboxEntry] = []
    with SqliteStore(db, readonly=True) as store:
        after = 0
        while page := store.outbox(after_id=after, limit=1000):
            rows.extend(page)
            after = page[-1].id
    return rows


def integrity(db: Path) -> str:
    """``PRAGMA integrity_check`` of the file as it is (``ok`` when sound)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return "\n".join(row[0] for row in conn.execute("PRAGMA integrity_check"))
    finally:
        conn.close()


def config_text(
    db: Path | str,
    port: int,
    services: str,
    *,
    hook: str | None = None,
    alert: str = "",
    interval: str = "1s",
    timeout: str = "800ms",
    agent: str = "",
) -> str:
    """A config file: the web plane on ``port``, a webhook route to ``hook`` if given,
    ``agent`` more agent settings (``"lease_seconds: 60s"``)."""
    text = (
        f"agent: {{database: '{db}', shutdown_grace: 5s{', ' + agent if agent else ''}}}\n"
        f"web: {{listen: '127.0.0.1:{port}'}}\n"
        f"defaults:\n  interval: {interval}\n  timeout: {timeout}\n"
        "  alert: {failure_threshold: 1, success_threshold: 1, flap_window: 0"
        f"{', ' + alert if alert else ''}}}\n"
    )
    if hook:
        text += f"alerting:\n  routes:\n    - {{name: hook, type: webhook, url: '{hook}'}}\n"
    return text + "services:\n" + services


@dataclass
class RestartableReceiver:
    """The webhook receiver of ``tests/servers`` on a thread of its own, which can be stopped
    (connections refused) and started again on the same port with the same record."""

    state: ReceiverState = field(default_factory=ReceiverState)
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _stop: asyncio.Event | None = None
    _thread: threading.Thread | None = None

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> RestartableReceiver:
        ready = threading.Event()

        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self.state.release = asyncio.Event()  # events belong to the loop that waits
            self.state.changed = asyncio.Event()
            async with serve_webhook_receiver(state=self.state, port=self.port) as hook:
                self.port = hook.port
                ready.set()
                await self._stop.wait()

        self._thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
        self._thread.start()
        assert ready.wait(10), "the webhook receiver did not start"
        return self

    def call(self, fn: Callable[[ReceiverState], Any]) -> Any:
        """Run ``fn(state)`` on the receiver's loop (to flip its knobs safely)."""
        assert self._loop is not None

        async def apply() -> Any:
            value = fn(self.state)
            self.state.changed.set()
            return value

        return asyncio.run_coroutine_threadsafe(apply(), self._loop).result(10)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(10)
        self._thread = None

    def accepted(self) -> list[dict[str, Any]]:
        """Accepted notifications (one per idempotency key), in arrival order."""
        if self._loop is None or self._thread is None:
            return list(self.state.accepted)
        return list(self.call(lambda state: list(state.accepted)))


@pytest.fixture
def receiver() -> Iterator[RestartableReceiver]:
    running = RestartableReceiver().start()
    yield running
    running.stop()


@pytest.fixture
def can_unshare() -> None:
    if shutil.which("unshare") is None or shutil.which("nsenter") is None:
        pytest.skip("needs unshare and nsenter (util-linux) for a private mount namespace")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"cannot create a mount namespace here: {probe.stderr.decode().strip()}")


class MountNamespace:
    """A private mount namespace, held open by a sleeping process, with a small tmpfs mounted
    on ``folder`` inside it; commands run inside with :meth:`run` or :attr:`prefix`, and the
    test (outside) reaches the folder's files through :meth:`inside` (``/proc/PID/root``)."""

    def inside(self, path: Path) -> Path:
        """Where the test, outside the namespace, finds ``path`` of the inside."""
        return Path(f"/proc/{self._holder.pid}/root") / path.relative_to("/")

    def __init__(self, folder: Path, mount: str) -> None:
        """``mount`` is the shell command, run inside, that mounts something on ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        script = f"{mount} && echo up && exec sleep 600"
        self._holder = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self._holder.stdout is not None
        assert self._holder.stderr is not None
        line = self._holder.stdout.readline()
        if line.strip() != "up":
            why = self._holder.stderr.read().strip()
            self.close()
            pytest.skip(f"cannot mount a file system for the test here ({mount}): {why}")

    @classmethod
    def tmpfs(cls, folder: Path, size: str) -> MountNamespace:
        return cls(folder, f"mount -t tmpfs -o size={size} nyxmon-test {folder}")

    @property
    def prefix(self) -> tuple[str, ...]:
        """Runs a command inside the namespace."""
        return ("nsenter", "-t", str(self._holder.pid), "-m", "--")

    def scheduled_times(self, db: Path) -> dict[str, list[float]]:
        """Each check's stored results' ``scheduled_at``, ascending, read through the store
        inside the namespace (SQLite follows ``/proc/PID/root`` back to this namespace's
        ``/``, so the file cannot be opened from outside)."""
        done = subprocess.run(
            [*self.prefix, sys.executable, "-c", _SCHEDULED_TIMES, str(db)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        times: dict[str, list[float]] = json.loads(done.stdout)
        return times

    def run(self, *command: str) -> str:
        done = subprocess.run(
            [*self.prefix, *command], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, f"{' '.join(command)}: {done.stderr}"
        return done.stdout

    def close(self) -> None:
        self._holder.kill()
        self._holder.wait(10)
        for pipe in (self._holder.stdout, self._holder.stderr):
            if pipe is not None:
                pipe.close()


_SCHEDULED_TIMES = """
import json, sys
from nyxmon.store.sqlite import SqliteStore
times = {}
with SqliteStore(sys.argv[1], readonly=True) as store:
    for check in store.list_checks().items:
        found, cursor = [], None
        while True:
            page = store.results(check.id, limit=1000, after=cursor)
            found.extend(stored.result.scheduled_at for stored in page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        times[check.id] = sorted(found)
print(json.dumps(times))
"""


@pytest.fixture
def target() -> Iterator[HttpTarget]:
    """A local HTTP target on a thread of its own (``/``, ``/switch`` and more)."""
    with ThreadedHttpTarget() as running:
        yield running


@pytest.fixture
def web_port() -> int:
    return free_port()


# -- a fault in writing, caused and cured ------------------------------------------------------


def problems_of(agent: Agent) -> tuple[int, str]:
    """/healthz's status code and its problems, joined."""
    code, health = agent.health()
    return code, " | ".join(health.get("problems", []))


def write_fault_round_trip(
    agent: Agent,
    scheduled_times: Callable[[], dict[str, list[float]]],
    cause: Callable[[], None],
    cure: Callable[[], None],
    says: str,
) -> None:
    """Cause a write fault, see /healthz say so (503, ``says`` among the problems) while
    /livez stays 200, cure it, see /healthz 200 again with nothing waiting, and every run
    of every check (one a second, start to start) in the store, before, during and after."""
    agent.wait_ready()
    wait_for(lambda: all(len(t) >= 2 for t in scheduled_times().values()), 60, "results")
    caused_at = time.time()
    cause()

    def failing() -> bool:
        code, problems = problems_of(agent)
        return code == 503 and "store writes failing" in problems

    # Other problems may come first (a web plane's own link to the database); this one must.
    wait_for(failing, 60, "/healthz to say 503: store writes failing")
    _, problems = problems_of(agent)
    assert says in problems.lower(), problems
    assert agent.get("/livez")[0] == 200, "a store refusing writes is no reason to restart"
    assert agent.health()[1]["figures"]["rows_waiting"] > 0, "results wait in memory"
    cure()
    cured_at = time.time()
    wait_for(lambda: agent.health()[0] == 200, 60, "/healthz 200 again")
    wait_for(lambda: agent.health()[1]["figures"]["rows_waiting"] == 0, 60, "all written")
    time.sleep(2.0)  # a couple more runs after the cure
    figures = agent.health()[1]["figures"]
    assert figures["results_dropped"] == 0
    overruns = agent.metric("nyxmon_scheduler_overruns")
    assert overruns is not None, "/metrics did not answer after the cure"
    until = time.time() - 1.0  # runs due before this are written by now
    agent.stop()
    for check_id, times in scheduled_times().items():
        times = [t for t in times if t < until]
        assert times[0] < caused_at, check_id
        assert times[-1] > cured_at, check_id
        missing = sum(round(later - earlier) - 1 for earlier, later in itertools.pairwise(times))
        # A run is skipped (and counted) only while the one before is still going.
        assert missing <= overruns, f"{check_id}: {missing} runs lost"
