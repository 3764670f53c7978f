"""Serve the web app with uvicorn on a daemon thread of its own, with its own event loop.

The web plane must never slow the execution plane nor the other way round (seed 004,
ASYNC-01/02): the agent's probes run on the runtime loop thread, the web app here on another
loop, so a slow page can only cost the process CPU, never a probe's place in a queue.

``start()`` binds the socket first (so a busy port is an immediate, clear error), then returns
once uvicorn serves. ``stop()`` ends open event streams, lets requests in flight finish for a
moment, and joins the thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn

__all__ = ["WebServer", "WebServerError"]

log = logging.getLogger(__name__)


class WebServerError(RuntimeError):
    """The web server could not start (address in use, app start-up failed)."""


def _loop_choice() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


class WebServer:
    """``WebServer(app, "127.0.0.1", 8080).start()``; port 0 picks a free one (see ``port``)."""

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 8080,
        *,
        loop: str | None = None,
        graceful_seconds: int = 3,
        log_level: str = "warning",
        bind_retry: float = 0.0,
    ) -> None:
        self.app = app
        self.host = host
        self._requested_port = port
        self._loop_name = loop or _loop_choice()
        self._graceful = graceful_seconds
        self._log_level = log_level
        # How long a busy port is tried again: a web process started right after its
        # predecessor was killed waits for the kernel to release the port.
        self._bind_retry = bind_retry
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._error: BaseException | None = None
        self.port = port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.host in ("0.0.0.0", "::"):
            host = "127.0.0.1" if self.host == "0.0.0.0" else "[::1]"
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 15.0) -> WebServer:
        if self._thread is not None:
            raise WebServerError("this web server was started already")
        sock = self._bind()
        self._socket = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            loop=self._loop_name,
            lifespan="on",
            log_config=None,
            log_level=self._log_level,
            access_log=False,
            timeout_graceful_shutdown=self._graceful,
            timeout_keep_alive=5,
            server_header=False,
            # Forwarded headers are believed only from web.trusted_proxies, by the app itself
            # (nyxmon.web.forwarded); uvicorn's default would believe any local client.
            proxy_headers=False,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(target=self._run, name="nyxmon-web", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive():
                self._close_socket()
                reason = f": {self._error}" if self._error else " (see the log)"
                raise WebServerError(f"the web server on {self.url} did not start{reason}")
            if time.monotonic() > deadline:
                self.stop(timeout=2.0)
                raise WebServerError(f"the web server on {self.url} did not start in {timeout} s")
            time.sleep(0.005)
        return self

    def _bind(self) -> socket.socket:
        deadline = time.monotonic() + self._bind_retry
        while True:
            try:
                return self._bind_once()
            except WebServerError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.1)

    def _bind_once(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._requested_port))
        except OSError as exc:
            sock.close()
            raise WebServerError(
                f"web.listen: cannot listen on {self.host}:{self._requested_port}: "
                f"{exc.strerror or exc}"
            ) from None
        sock.set_inheritable(True)
        return sock

    def _run(self) -> None:
        assert self._server is not None
        assert self._socket is not None
        server = self._server
        original_serve = server.serve

        async def serve(sockets: list[socket.socket] | None = None) -> None:
            self._loop = asyncio.get_running_loop()
            await original_serve(sockets=sockets)

        try:
            asyncio_run = _runner(self._server.config)
            asyncio_run(serve(sockets=[self._socket]))
        except BaseException as exc:  # reported by start() or logged; the thread just ends
            self._error = exc
            if server.started:
                log.exception("the web server failed")
        finally:
            self._close_socket()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop serving; True if the thread ended within ``timeout``."""
        server, thread, loop = self._server, self._thread, self._loop
        if server is None or thread is None:
            return True
        hooks: list[Callable[[], None]] = list(getattr(self.app.state, "stopping_hooks", ()))
        if loop is not None and not loop.is_closed():
            for hook in hooks:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(hook)
        server.should_exit = True
        thread.join(timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(2.0)
        if thread.is_alive():
            log.warning("the web server thread did not stop within %.1f s", timeout + 2.0)
            return False
        return True

    def _close_socket(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.close()


def _runner(config: uvicorn.Config) -> Callable[[Any], None]:
    factory = config.get_loop_factory()

    def run(coro: Any) -> None:
        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(coro)

    return run
