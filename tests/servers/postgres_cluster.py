"""A private PostgreSQL server with password logins, for what the shared local server
(``trust`` on 127.0.0.1, shared by every test and engineer) cannot show: a login refused for a
wrong password, a server stopped and started again under a running agent, a server behind a
network link that goes down."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.servers.sockets import closed_port

__all__ = ["PrivatePostgres", "private_postgres"]

_BIN = Path("/usr/local/bin")
_AS_POSTGRES = ("runuser", "-u", "postgres", "--")


class PrivatePostgres:
    """A fresh cluster (scram-sha-256 logins, user ``postgres`` with ``password``) listening on
    ``host``:``port``; ``prefix`` runs its server elsewhere (``ip netns exec NS``). Needs root
    (the server runs as ``postgres``). ``stop()`` and ``start()`` may be called any number of
    times; ``remove()`` stops it and deletes its files."""

    def __init__(
        self, password: str, *, host: str = "127.0.0.1", prefix: Sequence[str] = ()
    ) -> None:
        owner = pwd.getpwnam("postgres")
        self.password = password
        self.host = host
        self.port = closed_port()
        self._prefix = tuple(prefix)
        self._root = Path(tempfile.mkdtemp(prefix="nyxmon-pg-"))
        try:
            os.chown(self._root, owner.pw_uid, owner.pw_gid)
            secret = self._root / "pw"
            secret.write_text(password + "\n")
            os.chown(secret, owner.pw_uid, owner.pw_gid)
            self._ctl(_BIN / "initdb", "-D", self._root / "data", "-U", "postgres", "-N",
                      "--auth=scram-sha-256", f"--pwfile={secret}")  # fmt: skip
            # Password logins from the server's own subnets too (a peer in a namespace).
            with (self._root / "data" / "pg_hba.conf").open("a") as hba:
                hba.write("host all all samenet scram-sha-256\n")
        except BaseException:
            shutil.rmtree(self._root, ignore_errors=True)
            raise

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres:{self.password}@{self.host}:{self.port}/{database}"

    def _ctl(self, *command: object) -> None:
        subprocess.run(
            [*self._prefix, *_AS_POSTGRES, *map(str, command)],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> PrivatePostgres:
        options = f"-p {self.port} -k {self._root} -c listen_addresses={self.host}"
        self._ctl(_BIN / "pg_ctl", "-D", self._root / "data", "-o", options, "-w", "start",
                  "-l", self._root / "log")  # fmt: skip
        return self

    def stop(self, mode: str = "fast") -> None:
        """``fast``: what a restart does to clients (their sessions end, connections are then
        refused); ``immediate``: a crash."""
        self._ctl(_BIN / "pg_ctl", "-D", self._root / "data", "-m", mode, "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # not running
        finally:
            shutil.rmtree(self._root, ignore_errors=True)


@contextmanager
def private_postgres(password: str) -> Iterator[int]:
    """A started :class:`PrivatePostgres` on 127.0.0.1 for the ``with`` block; yields its port."""
    cluster = PrivatePostgres(password)
    try:
        cluster.start()
        yield cluster.port
    finally:
        cluster.remove()
