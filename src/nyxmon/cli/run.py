"""``nyxmon run`` and ``nyxmon demo``: the agent in the foreground until a signal.

SIGTERM / SIGINT: stop scheduling, give running probes the configured grace, write every result,
exit 0. A second signal exits at once. SIGHUP: reload the config file; a file with errors is
refused (each error logged) and the running config kept. A plane that fails stops the agent
with exit code 70 after a best-effort flush.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import typer

from nyxmon.cli._common import (
    ConfigOption,
    config_path,
    console,
    err,
    load,
    plural,
    setup_logging,
)
from nyxmon.config import ConfigValidationError, LoadedConfig, load_config
from nyxmon.errors import NyxmonError

if TYPE_CHECKING:
    from nyxmon.agent.agent import Agent
    from nyxmon.agent.control_server import ControlServer
    from nyxmon.cli.web_process import WebProcess
    from nyxmon.web import WebServer

log = logging.getLogger("nyxmon.run")

EXIT_FAILURE = 70  # EX_SOFTWARE: a plane of the agent died

#: The cyclic collector's thresholds once the agent runs. Less often than Python's 700: each
#: collection walks the young objects of every probe in flight (measured: +10-15% probes/s).
#: But not 50,000 as before: the amqp, nats, mqtt and redis client libraries leave 9-115
#: objects of cyclic garbage per run (futures, tracebacks, frames), and a collection of 50,000
#: of them took 70-80 ms of CPU (1.4-1.7 us each) on the loop thread, every few seconds: the
#: start lag's p99. At 10,000 one takes 4-6 ms (0.4-0.7 us each, less in all).
GC_THRESHOLDS = (10_000, 20, 100)

LogLevel = typer.Option("info", "--log-level", help="debug, info, warning or error.")


def run_command(config: Path | None = ConfigOption, log_level: str = LogLevel) -> None:
    """Run the agent on a config file until SIGTERM/SIGINT (SIGHUP reloads the file)."""
    _tune_malloc()
    setup_logging(log_level)
    path = config_path(config)
    raise typer.Exit(serve(load(path), path))


def demo_command(
    config: Path = typer.Option(  # noqa: B008
        Path("examples/nyxmon.yaml"), "--config", "-c", help="The config to run."
    ),
    target: bool = typer.Option(True, "--target/--no-target", help="Start the demo target."),
    http_port: int = typer.Option(8090, "--http-port", help="The demo target's HTTP port."),
    dns_port: int = typer.Option(8053, "--dns-port", help="The demo target's DNS port."),
    log_level: str = LogLevel,
) -> None:
    """Run the agent on the bundled example together with a local demo target
    (healthy, slow, flaky and failing pages, a JSON health endpoint and a DNS zone)."""
    from nyxmon.demo import DemoTarget
    from nyxmon.runtime import Runtime

    setup_logging(log_level)
    path = config_path(config)
    loaded = load(path)
    if not target:
        raise typer.Exit(serve(loaded, path))
    demo = DemoTarget(http_port=http_port, dns_port=dns_port)
    with Runtime(name="nyxmon-demo-target") as runtime:
        try:
            runtime.call(demo.start)
        except OSError as exc:
            err.print(f"error: --http-port/--dns-port: cannot start the demo target: {exc}")
            raise typer.Exit(1) from None
        console.print(
            f"demo target: http://127.0.0.1:{http_port}/ and DNS on 127.0.0.1:{dns_port} "
            "(POST /admin/break or /admin/fix to change /healthy)"
        )
        code = serve(loaded, path)
        runtime.call(demo.stop, timeout=5)
    raise typer.Exit(code)


def serve(config: LoadedConfig, path: Path) -> int:
    """Run an agent for ``config`` in the foreground; return the process exit code."""
    from nyxmon.bootstrap import build_agent, shown_database

    stop = threading.Event()
    reload = threading.Event()
    received = 0

    def on_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal received
        received += 1
        if received > 1:
            os._exit(128 + signum)  # the second signal: no more waiting
        stop.set()

    def on_reload(signum: int, frame: FrameType | None) -> None:
        reload.set()

    previous = {
        sig: signal.signal(sig, handler)
        for sig, handler in (
            (signal.SIGTERM, on_stop),
            (signal.SIGINT, on_stop),
            (signal.SIGHUP, on_reload),
        )
    }
    # From the start: at Python's default thresholds, building and starting an agent of
    # 5,000 checks ran full collections of the whole heap (200-500 ms each, measured) while
    # the first probes were already running.
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        try:
            agent = build_agent(config)
        except NyxmonError as exc:
            err.print(f"error: {exc}")
            return 1
        # A web plane of its own starts first: it imports and builds its app while the agent
        # starts, instead of taking CPU from the first probes.
        try:
            agent.claim_store()
        except NyxmonError as exc:
            agent.stop(grace=0)
            err.print(f"error: {exc}", markup=False)
            return 1
        early = _spawn_web_process(config, path)
        try:
            applied = agent.start()
        except Exception as exc:
            log.exception("the agent could not start")
            if early is not None:
                early.stop()
            agent.stop(grace=0)
            err.print(f"error: the agent could not start: {exc}")
            return 1
        checks_running = len(applied.checks)
        database = shown_database(config.agent.database)
        grace = config.agent.shutdown_grace
        web = _start_web(agent, config, early)
        if web is None:
            agent.stop(grace=0)
            return 1
        del config, applied  # the file's parse structures can go now (tens of MB for 5k checks)
        gc.collect()
        _give_back_free_memory()
        # Everything built so far lives as long as the process: move it out of the cyclic
        # collector's way.
        gc.freeze()
        # The loop thread gives up the GIL at every epoll wait and must take it back from the
        # store writer, dispatcher or metrics thread; at the default 5 ms switch interval it
        # often waited that long. Measured flat out (bench/agent_throughput): 1 ms gives
        # about +10-15% probes/s (runs taken in turn) and lower start lag.
        sys.setswitchinterval(0.001)
        console.print(
            f"NyxMon agent running {plural(checks_running, 'check')} from {path} "
            f"(database {database}); Ctrl+C to stop",
            markup=False,
        )
        if not isinstance(web, _WebPlane):  # a process of its own prints its own URL
            console.print(f"dashboard: {web.url}/", markup=False)
        code = 0
        while not stop.is_set():
            stop.wait(0.5)
            if reload.is_set():
                reload.clear()
                _reload(agent, path)
                web.reload()
            web.watch()
            failure = agent.failure()
            if failure is not None:
                err.print(f"error: {failure}; stopping")
                code = EXIT_FAILURE
                break
        if stop.is_set():
            log.info(
                "stopping: up to %.0f s for %d running probes to finish; "
                "signal again to exit at once",
                grace,
                agent.scheduler.in_flight,
            )
        if not web.stop(timeout=5.0):
            log.warning("the web server did not stop in time; stopping the agent anyway")
        report = agent.stop()
        log.info(
            "agent stopped in %.1f s; %s",
            report.seconds,
            "every result written"
            if not report.results_unwritten
            else f"{plural(report.results_unwritten, 'result')} could NOT be written",
        )
        return code if not report.results_unwritten else max(code, 1)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _WebPlane:
    """The web plane in a process of its own, and the agent's control socket it talks to."""

    def __init__(self, process: WebProcess, control: ControlServer) -> None:
        self.process = process
        self.control = control

    @property
    def url(self) -> str:
        return self.process.url

    def watch(self) -> None:
        self.process.watch()

    def reload(self) -> None:
        self.process.reload()

    def stop(self, timeout: float) -> bool:
        stopped = self.process.stop(timeout)
        self.control.stop()
        return stopped


class _WebThread:
    """The web plane on a thread of the agent's process (``web.separate_process: false``)."""

    def __init__(self, server: WebServer) -> None:
        self.server = server

    @property
    def url(self) -> str:
        return self.server.url

    def watch(self) -> None:
        pass

    def reload(self) -> None:
        pass  # it reads the agent's config, which the agent just reloaded

    def stop(self, timeout: float) -> bool:
        return self.server.stop(timeout=timeout)


def _announce(line: str) -> None:
    console.print(line, markup=False)


def _spawn_web_process(config: LoadedConfig, path: Path) -> WebProcess | None:
    """The web plane's process, started (not yet serving) when the config wants one."""
    from nyxmon.bootstrap import control_socket_path
    from nyxmon.cli.web_process import WebProcess

    if not config.agent.web.separate_process:
        return None
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel()).lower()
    socket_path = control_socket_path(config.agent)
    return WebProcess(path, socket_path, config.agent.web, log_level=level).spawn()


def _start_web(
    agent: Agent, config: LoadedConfig, process: WebProcess | None
) -> _WebPlane | _WebThread | None:
    """The web plane once the agent runs: the control socket its process waits for, then the
    process serving; or a thread of this process. None (and why) if it cannot start."""
    from nyxmon.bootstrap import build_control_server, build_web, control_socket_path
    from nyxmon.cli.web_process import WebProcessError

    if process is None:
        # Only here: it imports uvicorn, which an agent with a web process of its own lacks.
        from nyxmon.web import WebServerError

        try:
            server = build_web(agent, config, announce=_announce)
            return _WebThread(server.start())
        except (WebServerError, NyxmonError) as exc:
            err.print(f"error: {exc}", markup=False)
            return None
    control = build_control_server(agent, control_socket_path(config.agent)).start()
    try:
        process.wait_ready()
    except WebProcessError as exc:
        control.stop()
        err.print(f"error: {exc}", markup=False)
        return None
    return _WebPlane(process, control)


#: glibc's mallopt parameter for the most malloc arenas (malloc.h's M_ARENA_MAX).
_M_ARENA_MAX = -8
#: Arenas the agent's threads share (glibc's default is 8 per core).
_ARENAS = 2
#: glibc's mallopt parameter for the size from which malloc maps memory of its own
#: (malloc.h's M_MMAP_THRESHOLD).
_M_MMAP_THRESHOLD = -3
#: Blocks this big or bigger get pages of their own, given back at free: glibc's starting
#: value, pinned (see :func:`_tune_malloc`).
_MMAP_THRESHOLD = 128 * 1024


def _tune_malloc() -> None:
    """Keep glibc's malloc from holding on to freed memory (glibc only; elsewhere a no-op).

    The agent's threads share two malloc arenas. By default each thread that allocates (the
    loop, the dispatcher, the store writer, the metrics and control loops, the SQLite
    checkpointer) gets an arena of its own, and each keeps the memory it freed: measured with
    5,000 checks, 3-10 MB of the agent's RSS. The threads take turns on the GIL anyway, so
    sharing costs no measurable probe throughput.
    ``MALLOC_ARENA_MAX`` in the environment, if set, wins. Call before any thread starts.

    It also pins the mmap threshold at glibc's starting 128 KiB. glibc raises the threshold
    to the size of any mapped block freed (up to 32 MiB), and uvloop gives every TLS
    connection a 256 KiB read buffer: after the first one, each came from the heap instead,
    so the heap grew by 256 KiB per TLS handshake in flight and kept those pages (measured with
    5,000 checks: 71 MB of heap for 46 MB in use, 52 MB once pinned; -8 MB RSS).
    ``MALLOC_MMAP_THRESHOLD_`` in the environment, if set, wins."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6")
        if "MALLOC_ARENA_MAX" not in os.environ:
            libc.mallopt(_M_ARENA_MAX, _ARENAS)
        if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
            libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)


def _give_back_free_memory() -> None:
    """Return freed heap to the OS (glibc only; elsewhere a no-op): loading a big config leaves
    megabytes of free but fragmented heap that would otherwise count as the agent's RSS."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _reload(agent: object, path: Path) -> None:
    from nyxmon.agent.agent import Agent

    assert isinstance(agent, Agent)
    try:
        config = load_config(path)
    except ConfigValidationError as exc:
        for issue in exc.errors:
            log.error("reload refused: %s", issue)
        log.error(
            "reload refused: %s has %s; still running the previous config",
            path,
            plural(len(exc.errors), "error"),
        )
        return
    try:
        applied = agent.reload(config)
    except Exception:
        log.exception("reload failed; still running the previous config")
        return
    log.info(
        "reloaded %s: %d added, %d changed, %d removed",
        path,
        len(applied.added),
        len(applied.changed),
        len(applied.removed),
    )
