"""A private PostgreSQL server with password logins, for the one thing the shared local server
(``trust`` on 127.0.0.1) cannot show: a login refused for a wrong password."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.servers.sockets import closed_port

__all__ = ["private_postgres"]

_BIN = Path("/usr/local/bin")


@contextmanager
def private_postgres(password: str) -> Iterator[int]:
    """A fresh cluster (scram-sha-256 logins, user ``postgres`` with ``password``) on a free
    loopback port, removed afterwards. Needs root (the server runs as ``postgres``)."""
    owner = pwd.getpwnam("postgres")
    root = Path(tempfile.mkdtemp(prefix="nyxmon-pg-"))
    try:
        os.chown(root, owner.pw_uid, owner.pw_gid)
        secret = root / "pw"
        secret.write_text(password + "\n")
        os.chown(secret, owner.pw_uid, owner.pw_gid)
        as_postgres = ["runuser", "-u", "postgres", "--"]
        subprocess.run(
            [*as_postgres, _BIN / "initdb", "-D", root / "data", "-U", "postgres", "-N",
             "--auth=scram-sha-256", f"--pwfile={secret}"],
            check=True, capture_output=True,
        )  # fmt: skip
        port = closed_port()
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
        subprocess.run(
            [*as_postgres, _BIN / "pg_ctl", "-D", root / "data", "-o", options, "-w", "start",
             "-l", root / "log"],
            check=True, capture_output=True,
        )  # fmt: skip
        try:
            yield port
        finally:
            subprocess.run(
                [*as_postgres, _BIN / "pg_ctl", "-D", root / "data", "-m", "immediate", "stop"],
                check=False, capture_output=True,
            )  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)
