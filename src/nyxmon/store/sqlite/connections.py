"""SQLite connections: one writer behind a lock, read-only readers one per thread.

WAL mode lets readers see the last committed state while the writer holds a transaction, so
the web plane never waits for the agent. ``synchronous=NORMAL`` in WAL mode keeps every commit
atomic and consistent after a crash (a power cut may lose the last commits, never corrupt).
Readers open the file with ``mode=ro`` so a bug in a read path cannot write.
"""

from __future__ import annotations

import contextlib
import math
import os
import sqlite3
import stat
import threading
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from nyxmon.errors import StoreError
from nyxmon.store.sqlite.checkpointer import WRITER_AUTOCHECKPOINT_PAGES, Checkpointer
from nyxmon.store.sqlite.write_gate import WriteGate

__all__ = ["Connections", "SqlConnection", "ensure_ln", "sqlite_errors", "store_error"]


class SqlConnection(Protocol):
    """What repositories need of a connection: a plain one, or the transaction's lazy one."""

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor: ...


_COMMON_PRAGMAS = ("PRAGMA foreign_keys = ON", "PRAGMA temp_store = MEMORY")
WRITER_CACHE_KIB = 4096
READER_CACHE_KIB = 2048


def ensure_ln(conn: sqlite3.Connection) -> None:
    """Provide ``ln`` where SQLite was built without its math functions (slower, same values);
    the rollups bucket durations with it."""
    try:
        conn.execute("SELECT ln(2.0)").fetchone()
    except sqlite3.OperationalError:
        conn.create_function("ln", 1, math.log, deterministic=True)


@contextmanager
def sqlite_errors(what: str, path: Path | None = None) -> Iterator[None]:
    """Translate driver errors into StoreError naming the operation, and, for a database that
    cannot be opened or written, why (SQLite says only "unable to open database file")."""
    try:
        yield
    except sqlite3.Error as exc:
        raise store_error(what, exc, path) from exc


def store_error(what: str, exc: sqlite3.Error, path: Path | None = None) -> StoreError:
    """``what: <SQLite's words>``, with why the file cannot be written when that is the
    trouble and ``path`` is known."""
    why = why_not_writable(path) if path is not None and _is_access_error(exc) else ""
    return StoreError(f"{what}: {exc}{f' ({why})' if why else ''}")


_ACCESS_ERRORS = ("unable to open", "readonly", "read-only", "disk i/o error", "disk is full")


def _is_access_error(exc: sqlite3.Error) -> bool:
    # A file system turned read-only under open files (ext4 after an error) gives a bare
    # "disk I/O error", a full one "database or disk is full": both worth a reason.
    text = str(exc).lower()
    return any(words in text for words in _ACCESS_ERRORS)


_NEARLY_FULL = 1024 * 1024  # bytes free below which a failed write is put down to a full disk


def why_not_writable(path: Path) -> str:
    """What keeps SQLite from writing ``path`` and the ``-wal`` and ``-shm`` files beside it."""
    folder = path.parent
    if not folder.is_dir():
        return f"its folder {folder} does not exist"
    try:
        fs = os.statvfs(folder)
    except OSError as exc:
        return f"cannot inspect {folder}: {exc.strerror or exc}"
    if fs.f_flag & os.ST_RDONLY:
        return (
            f"{folder} is on a read-only file system; NyxMon writes the database and its "
            "-wal and -shm files there"
        )
    free = (fs.f_bfree if os.getuid() == 0 else fs.f_bavail) * fs.f_frsize
    if free < _NEARLY_FULL:
        return f"the file system holding {folder} is full ({free // 1024} KiB free)"
    if not os.access(folder, os.W_OK | os.X_OK):
        return (
            f"the folder {folder} is not writable by this user (uid {os.getuid()}); SQLite "
            "creates the -wal and -shm files there"
        )
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        mode = stat.filemode(path.stat().st_mode)
        return f"the file is not readable and writable by this user (uid {os.getuid()}, {mode})"
    if path.exists() and path.is_dir():
        return "it is a folder, not a file"
    return _write_probe(folder)


def _write_probe(folder: Path) -> str:
    """Write a byte to a new file in ``folder`` and say why that fails, if it does.

    Some file systems refuse writes without saying so in statvfs (ext4 turned read-only by an
    error sets its own flag, not ``ST_RDONLY``), and SQLite reports only "disk I/O error";
    the OS's own words ("Read-only file system") are what a person needs.
    """
    probe = folder / f".nyxmon-write-probe-{os.getpid()}-{threading.get_ident()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return ""
    except OSError as exc:
        return f"writing in {folder} fails: {exc.strerror or exc}"
    try:
        os.write(fd, b"x")
        os.fsync(fd)
    except OSError as exc:
        return f"writing in {folder} fails: {exc.strerror or exc}"
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(probe)
    return ""


class _ReaderSlot:
    """Holds one thread's reader; weakly registered so a finished thread's one is freed."""

    __slots__ = ("__weakref__", "conn")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn


class Connections:
    """The writer connection (serialised by ``write_lock``) and per-thread readers."""

    def __init__(self, path: Path, *, busy_timeout: float = 10.0, writable: bool = True) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self.write_lock = WriteGate()
        self._local = threading.local()
        self._readers: weakref.WeakSet[_ReaderSlot] = weakref.WeakSet()
        self._readers_lock = threading.Lock()
        self._closed = False
        #: True while a transaction holds the writer (guards nesting on the lock's own thread).
        self.writer_busy = False
        self._writer: sqlite3.Connection | None = self._open_writer() if writable else None
        self._checkpointer: Checkpointer | None = None

    def checkpoint(self) -> None:
        """Checkpoint now from the calling thread (background work that just wrote a lot)."""
        if self._checkpointer is not None and not self._closed:
            with sqlite_errors(f"checkpointing {self.path}"):
                self._checkpointer.checkpoint_now()

    def start_checkpointer(self, interval: float) -> None:
        """Checkpoint the WAL from a thread of its own (after migrations created the file)."""
        if self._writer is not None and self._checkpointer is None:
            self._checkpointer = Checkpointer(
                self.path, self.write_lock, interval=interval, busy_timeout=self.busy_timeout
            )

    def _open_writer(self) -> sqlite3.Connection:
        if not self.path.parent.is_dir():
            raise StoreError(
                f"cannot open database {self.path}: folder {self.path.parent} is missing"
            )
        with sqlite_errors(f"opening database {self.path}", self.path):
            conn = sqlite3.connect(
                self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
            )
            try:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StoreError(f"database {self.path} cannot use WAL mode (got {mode!r})")
                for pragma in (
                    *_COMMON_PRAGMAS,
                    "PRAGMA synchronous = NORMAL",
                    # 4 MiB: pages SQLite drops are still in the OS page cache (cheap to read
                    # back, not counted against the agent's RSS budget of 150 MB); 32 MiB
                    # measured as +24 MB RSS for no throughput gain at 1,000 results/s, and
                    # 8 MiB, which the mixed benchmark's agent fills, as no faster to write
                    # than 4 MiB (bench/storage.py: write CPU 42 vs 44 us/result, writer
                    # share 0.090 vs 0.087 at 1,000 results/s; 2 MiB: 47 us, 0.097).
                    f"PRAGMA cache_size = -{WRITER_CACHE_KIB:d}",
                    # Debian builds SQLite with secure_delete on; zeroing every deleted row
                    # would double the cleaner's I/O for no benefit to a monitor.
                    "PRAGMA secure_delete = FAST",
                    f"PRAGMA wal_autocheckpoint = {WRITER_AUTOCHECKPOINT_PAGES:d}",
                    # A WAL that grew during a backlog shrinks back when it restarts.
                    "PRAGMA journal_size_limit = 67108864",
                ):
                    conn.execute(pragma)
                ensure_ln(conn)
            except BaseException:
                conn.close()
                raise
        return conn

    def _open_reader(self) -> sqlite3.Connection:
        uri = f"{self.path.absolute().as_uri()}?mode=ro"
        with sqlite_errors(f"opening database {self.path} for reading"):
            conn = sqlite3.connect(
                uri,
                uri=True,
                timeout=self.busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            pragmas = (*_COMMON_PRAGMAS, "PRAGMA query_only = ON")
            # Small: every thread that reads gets its own connection, hence its own cache.
            for pragma in (*pragmas, f"PRAGMA cache_size = -{READER_CACHE_KIB:d}"):
                conn.execute(pragma)
            ensure_ln(conn)
        return conn

    @property
    def writer(self) -> sqlite3.Connection:
        """The writer; hold ``write_lock`` while using it."""
        if self._closed:
            raise StoreError(f"store {self.path} is closed")
        if self._writer is None:
            raise StoreError(f"store {self.path} was opened read-only")
        return self._writer

    def reader(self) -> sqlite3.Connection:
        """This thread's read-only connection, opened on first use."""
        if self._closed:
            raise StoreError(f"store {self.path} is closed")
        slot: _ReaderSlot | None = getattr(self._local, "slot", None)
        if slot is None:
            slot = _ReaderSlot(self._open_reader())
            self._local.slot = slot
            with self._readers_lock:
                self._readers.add(slot)
        return slot.conn

    @contextmanager
    def read_transaction(self, what: str = "reading") -> Iterator[sqlite3.Connection]:
        """A snapshot across several statements (e.g. a rollup cursor and the rows it implies);
        driver errors become StoreError prefixed with ``what``."""
        with sqlite_errors(what):
            conn = self.reader()
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._checkpointer is not None:
            self._checkpointer.stop()
        with self._readers_lock:
            slots = list(self._readers)
            self._readers.clear()
        for slot in slots:
            slot.conn.close()
        with self.write_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
