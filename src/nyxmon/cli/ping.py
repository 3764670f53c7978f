"""``nyxmon ping``: the job's side of a push check, and its key.

- ``nyxmon ping run KEY -- CMD ...`` wraps a job like runitor: ``/start`` (with a run id),
  runs the command with its output passed through, then ``/{exit_status}`` with the tail of the
  output as the body, and exits with the command's own status. A monitor that cannot be
  reached is reported on stderr, never the job's failure.
- ``nyxmon ping rotate CHECK``: a new random key for a push check made by the API or CLI,
  shown once.

The server is ``--url``, else ``$NYXMON_URL``, else the config's ``web.public_url``.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import IO

import typer
from rich.markup import escape

from nyxmon.cli._common import ConfigOption, DbOption, console, fail, load, open_cli_store
from nyxmon.cli.check_edit import show_ping_key
from nyxmon.config import LoadedConfig
from nyxmon.domain.model import CheckSource
from nyxmon.domain.push import PUSH_TYPE, generate_ping_key, key_problem
from nyxmon.errors import NyxmonError
from nyxmon.service_layer.direct import execute
from nyxmon.service_layer.messages import AddCheck

__all__ = ["app"]

app = typer.Typer(help="Push checks: wrap a job in pings, rotate a ping key.", no_args_is_help=True)

_TAIL = 10_000


@app.command(
    "run",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def run(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="The push check's ping key."),
    url: str | None = typer.Option(
        None, "--url", help="The monitor's base URL (default: $NYXMON_URL, else the config's)."
    ),
    tail: int = typer.Option(_TAIL, "--tail", min=0, help="Bytes of output sent with the end."),
    timeout: float = typer.Option(10.0, "--timeout", help="Seconds each ping may take."),
    config: Path | None = ConfigOption,
) -> None:
    """Run ``CMD`` (after ``--``) between a start and an end ping; exit with its status."""
    command = list(ctx.args)
    if not command:
        fail("CMD: give the command to run after --, e.g. nyxmon ping run KEY -- backup.sh")
    problem = key_problem(key)
    if problem is not None:
        fail(f"KEY: {problem}")
    base = _base_url(url, config)
    rid = secrets.token_hex(8)
    _send(f"{base}/ping/{key}/start?rid={rid}", b"", timeout)
    output = _Tail(tail)
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except OSError as exc:
        output.write(f"nyxmon ping run: cannot start {command[0]}: {exc.strerror}\n".encode())
        sys.stderr.write(f"cannot start {command[0]}: {exc.strerror}\n")
        _send(f"{base}/ping/{key}/127?rid={rid}", output.value(), timeout)
        raise typer.Exit(127) from None
    assert process.stdout is not None
    pump = threading.Thread(target=_pump, args=(process.stdout, output), daemon=True)
    pump.start()
    status = process.wait()
    pump.join()
    code = status if status >= 0 else 128 - status  # killed by a signal: 128 + its number
    _send(f"{base}/ping/{key}/{min(code, 255)}?rid={rid}", output.value(), timeout)
    raise typer.Exit(code)


@app.command("rotate")
def rotate(
    check_id: str = typer.Argument(..., help="The push check's id."),
    config: Path | None = ConfigOption,
    db: Path | None = DbOption,
) -> None:
    """Give a push check (made by the API or the CLI) a new ping key, shown once."""
    store = open_cli_store(config, db)
    try:
        check = store.get_check(check_id)
        if check is None:
            fail(f"CHECK: no check with id {check_id!r}")
        if check.type != PUSH_TYPE:
            fail(f"CHECK: {check_id!r} is a {check.type} check; only push checks have a key")
        if check.source is CheckSource.CONFIG:
            fail(f"CHECK: {check_id!r} comes from the config file: change its token there")
        rotated = replace(
            check, params=MappingProxyType({**check.params, "token": generate_ping_key()})
        )
        try:
            execute(store, AddCheck(rotated))
        except NyxmonError as exc:
            fail(str(exc))
    finally:
        store.close()
    console.print(f"new ping key for [bold]{escape(check_id)}[/]; the old one is refused now")
    show_ping_key(rotated, _loaded_or_none(config))


# -- helpers ---------------------------------------------------------------------------------------
class _Tail:
    """The last ``limit`` bytes written."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._data = bytearray()

    def write(self, chunk: bytes) -> None:
        self._data += chunk
        if len(self._data) > 2 * self.limit + 65536:
            del self._data[: len(self._data) - self.limit]

    def value(self) -> bytes:
        return bytes(self._data[-self.limit :]) if self.limit else b""


def _pump(stream: IO[bytes], tail: _Tail) -> None:
    """Copy the command's output to ours as it comes, keeping its tail."""
    out = sys.stdout.buffer
    while chunk := stream.read1(65536):  # type: ignore[attr-defined]
        out.write(chunk)
        out.flush()
        tail.write(chunk)


def _send(url: str, body: bytes, timeout: float) -> None:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"User-Agent": "nyxmon-ping-run", "Content-Type": "text/plain; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            answer.read()
    except urllib.error.HTTPError as exc:
        what = "no push check has this key" if exc.code == 404 else f"HTTP {exc.code}"
        sys.stderr.write(f"nyxmon ping run: the ping was refused: {what}\n")
    except OSError as exc:
        sys.stderr.write(f"nyxmon ping run: the monitor could not be reached: {exc}\n")


def _base_url(url: str | None, config: Path | None) -> str:
    base = url or os.environ.get("NYXMON_URL")
    if not base:
        loaded = _loaded_or_none(config)
        if loaded is None:
            fail("--url: give the monitor's URL (or set $NYXMON_URL, or web.public_url)")
        base = loaded.agent.web.public_url
    if not base.startswith(("http://", "https://")):
        fail(f"--url: expected an http:// or https:// URL, got {base!r}")
    return base.rstrip("/")


def _loaded_or_none(config: Path | None) -> LoadedConfig | None:
    try:
        return load(config)
    except (SystemExit, typer.Exit, NyxmonError):
        return None
