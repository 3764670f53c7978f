"""The web plane's process, started and watched by ``nyxmon run``.

The child is ``nyxmon web`` on the same config file and the agent's control socket; it shares
the terminal, so its messages (the dashboard URL, the first admin password) reach the user as
before. The agent does not wait on it for anything: if it dies it is started again (at most
``max_restarts`` times in ``restart_window`` seconds, then the agent keeps running without a
dashboard and says so), and stopping the agent stops it first.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nyxmon.config import WebConfig

__all__ = ["WebProcess", "WebProcessError"]

log = logging.getLogger("nyxmon.run")

_PR_SET_PDEATHSIG = 1


class WebProcessError(RuntimeError):
    """The web plane's process could not start (it exited, or never answered)."""


class WebProcess:
    def __init__(
        self,
        config_path: Path,
        control: Path,
        web: WebConfig,
        *,
        log_level: str = "info",
        max_restarts: int = 5,
        restart_window: float = 300.0,
    ) -> None:
        self._args = [
            sys.executable,
            "-m",
            "nyxmon",
            "web",
            "--config",
            str(config_path),
            "--control",
            str(control),
            "--log-level",
            log_level,
        ]
        self._web = web
        self._max_restarts = max_restarts
        self._window = restart_window
        self._restarts: list[float] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self.gave_up = False
        self.url = ""
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._ready: Path | None = None

    def start(self, timeout: float = 30.0) -> WebProcess:
        """Start it and return once it serves."""
        return self.spawn().wait_ready(timeout)

    def spawn(self) -> WebProcess:
        """Start the process without waiting: it imports and builds its app (a second or two
        of CPU) while the agent starts, then connects to the control socket once it exists."""
        self._folder = tempfile.TemporaryDirectory(prefix="nyxmon-web-")
        self._ready = Path(self._folder.name) / "ready"
        self._proc = subprocess.Popen(
            [*self._args, "--ready-file", str(self._ready)],
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        return self

    def wait_ready(self, timeout: float = 30.0) -> WebProcess:
        """Return once it serves (it writes its URL to the file we named)."""
        assert self._proc is not None
        assert self._ready is not None
        assert self._folder is not None
        deadline = time.monotonic() + timeout
        try:
            while not self._ready.exists():
                code = self._proc.poll()
                if code is not None:
                    raise WebProcessError(f"the web plane exited with {code} while starting")
                if time.monotonic() > deadline:
                    self.stop()
                    raise WebProcessError(f"the web plane did not start within {timeout:g} s")
                time.sleep(0.05)
            self.url = self._ready.read_text().strip()
        finally:
            self._folder.cleanup()
            self._folder = self._ready = None
        return self

    def watch(self) -> None:
        """Restart the web plane if it died (called from the agent's main loop)."""
        if self._proc is None or self.gave_up or self._proc.poll() is None:
            return
        now = time.monotonic()
        self._restarts = [t for t in self._restarts if now - t < self._window]
        if len(self._restarts) >= self._max_restarts:
            self.gave_up = True
            log.error(
                "the web plane died %d times in %.0f s; the agent keeps probing without it",
                len(self._restarts),
                self._window,
            )
            return
        self._restarts.append(now)
        log.warning("the web plane exited with %s; starting it again", self._proc.returncode)
        try:
            self.start()
        except WebProcessError as exc:
            log.error("%s", exc)

    def reload(self) -> None:
        """Have it read the config file again (the agent did)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGHUP)

    def stop(self, timeout: float = 10.0) -> bool:
        """SIGTERM, then SIGKILL after ``timeout``; True if it ended on its own."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return True
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
            return False

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid


def _die_with_parent() -> None:
    """In the child before exec: the kernel kills it when the agent dies, even by kill -9, so
    an orphaned web plane never keeps the port from the agent's next start (Linux only).

    The kernel ties this to the *thread* that started the child, so ``start()`` must be
    called from the agent's main thread, which lives as long as the process (it is).
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
