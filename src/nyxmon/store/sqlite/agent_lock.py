"""One agent per SQLite file: an exclusive lock held for the agent's whole life.

Two agents on one file would both start, probe every check twice and send every notice twice,
with nothing to tell them apart. So an agent takes ``flock(LOCK_EX | LOCK_NB)`` on a file beside
the database (``nyxmon.db.agent-lock``) and writes who it is into it; a second agent finds the
lock taken and refuses to start, naming the holder. The kernel drops the lock when the holder's
process ends however it ends (``kill -9`` included), so there is never a stale lock to clear.

Why a separate file and not the database itself: SQLite's own locks are POSIX record locks, and
closing *any* descriptor of the database file drops every such lock the process holds. A lock
descriptor of ours on the database would break the locks of the web thread's readers when it
is closed at the agent's stop. Readers (the CLI, the web process) never take this lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path

from nyxmon.errors import StoreError

__all__ = ["AgentLock", "AgentLockedError", "lock_path_for"]


class AgentLockedError(StoreError):
    """Another agent runs on this database."""


def lock_path_for(database: Path) -> Path:
    return database.with_name(database.name + ".agent-lock")


class AgentLock:
    """The exclusive claim of one agent on one database file; ``release()`` ends it."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = lock_path_for(database)
        self._fd: int | None = None

    def acquire(self) -> AgentLock:
        """Take the lock or raise :class:`AgentLockedError` naming the agent that holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(_read(fd))
            os.close(fd)
            raise AgentLockedError(
                f"another agent is running on {self.database} ({holder}); "
                "stop it first, or give this agent its own agent.database"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(_whoami()).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # a reader finding the file empty knows nobody holds it
        os.close(fd)  # closing the descriptor drops the flock

    @property
    def shared(self) -> None:
        """An agent on SQLite runs alone and runs every check."""
        return None

    @property
    def held(self) -> bool:
        return self._fd is not None


def _whoami() -> dict[str, object]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "command": " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:])[:200],
    }


def _read(fd: int) -> dict[str, object]:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _describe(holder: dict[str, object]) -> str:
    if not holder.get("pid"):
        return "it is starting or stopping"
    where = f"pid {holder['pid']} on {holder.get('host', '?')}"
    since = f", started {holder['started']}" if holder.get("started") else ""
    command = f": {holder['command']}" if holder.get("command") else ""
    return where + since + command
