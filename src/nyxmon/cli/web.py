"""``nyxmon web``: the web plane as a process of its own, beside a running agent.

``nyxmon run`` starts it by itself (``web.separate_process``, the default); run it by hand to
serve the dashboard of an agent started with ``web.separate_process: false`` elsewhere, or to
restart the web plane without touching the agent. It reads the same config file, opens the
same database for reads (and for its own users, sessions and tokens) and talks to the agent
over its control socket. SIGTERM/SIGINT stop it; SIGHUP reads the config file again; it exits
1 when the agent goes away.

Which agent it follows, the rule:

- ``agent.database`` is PostgreSQL: several agents on several machines may share it, and no
  agent's own feed covers the checks the others hold, so the statuses follow the database
  itself (LISTEN/NOTIFY, :mod:`nyxmon.web.shared_store`). With ``--control SOCKET`` (``nyxmon
  run`` starts it so) writes, run-now and pings go to that agent and the process exits 1 when
  it goes away; without, writes go straight to the store (agents pick them up as they pick up
  the CLI's), run-now and pings are answered 503, and the process never exits on its own:
  PostgreSQL going away makes ``/healthz`` answer 503 until it reconnects;
- SQLite: the one agent, over its control socket (``--control``, by default beside the
  database file).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from pathlib import Path
from types import FrameType

import typer

from nyxmon.cli._common import ConfigOption, config_path, console, err, load, setup_logging
from nyxmon.config import ConfigValidationError, load_config
from nyxmon.errors import NyxmonError

log = logging.getLogger("nyxmon.web.process")

_NICENESS = 5

LogLevel = typer.Option("info", "--log-level", help="debug, info, warning or error.")
ControlOption = typer.Option(
    None,
    "--control",
    help=(
        "The agent's control socket (default: beside its SQLite database; on PostgreSQL, "
        "none: statuses follow every agent through the database, run-now and pings need one)."
    ),
)


ReadyOption = typer.Option(None, "--ready-file", hidden=True)


def web_command(
    config: Path | None = ConfigOption,
    control: Path | None = ControlOption,
    log_level: str = LogLevel,
    ready_file: Path | None = ReadyOption,
) -> None:
    """Serve the dashboard, API and status pages of a running agent, in this process."""
    setup_logging(log_level)
    path = config_path(config)
    raise typer.Exit(serve_web(path, control, ready_file))


def serve_web(path: Path, control: Path | None, ready_file: Path | None = None) -> int:
    from nyxmon.bootstrap import build_remote_web, build_shared_web, control_socket_path
    from nyxmon.web import WebServer, WebServerError
    from nyxmon.web.remote import RemoteContext
    from nyxmon.web.shared_store import SharedStoreContext

    config = load(path)
    shared = config.agent.uses_postgres
    socket_path = control or control_socket_path(config.agent)
    # When the machine is short of CPU, the probes' process goes first: a dashboard answering
    # late is better than a probe starting late.
    with contextlib.suppress(OSError):
        os.nice(_NICENESS)
    stop = threading.Event()
    reload = threading.Event()

    def on_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    def on_reload(signum: int, frame: FrameType | None) -> None:
        reload.set()

    for sig, handler in ((signal.SIGTERM, on_stop), (signal.SIGINT, on_stop)):
        signal.signal(sig, handler)
    signal.signal(signal.SIGHUP, on_reload)
    try:
        server: WebServer
        context: RemoteContext | SharedStoreContext
        announce = lambda line: console.print(line, markup=False)  # noqa: E731
        if shared:
            server, context = build_shared_web(config, control, announce=announce)
            log.info("following the agents through the database")
        else:
            server, context = build_remote_web(config, socket_path, announce=announce)
        server.start()
    except (WebServerError, NyxmonError, OSError) as exc:
        err.print(f"error: the web plane could not start: {exc}", markup=False)
        return 1
    console.print(f"dashboard: {server.url}/", markup=False)
    if ready_file is not None:  # ``nyxmon run`` waits for this file, whole or not at all
        partial = ready_file.with_suffix(".partial")
        partial.write_text(server.url)
        partial.replace(ready_file)
    code = 0
    while not stop.wait(0.5):
        if reload.is_set():
            reload.clear()
            try:
                context.reload(load_config(path))
            except ConfigValidationError:
                # The agent reads the same file and reports each error; the web plane keeps
                # showing the config the agent keeps running.
                log.debug("the web plane keeps the previous config of %s", path)
        beside = context if isinstance(context, RemoteContext) else context.agent
        if isinstance(beside, RemoteContext) and beside.client.closed.is_set():
            err.print("error: the agent closed its control connection; stopping", markup=False)
            code = 1
            break
    server.stop(timeout=5.0)
    context.store.close()
    return code
