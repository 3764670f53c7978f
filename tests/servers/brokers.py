"""Private Mosquitto and NATS servers with password logins, for what the shared local brokers
(anonymous) cannot show: a login refused for a wrong password."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.servers.sockets import closed_port

__all__ = ["private_mosquitto", "private_nats"]


def _wait_listening(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited: {process.stderr.read() if process.stderr else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within 10 s")


@contextmanager
def _serve(command: list[str], port: int, what: str) -> Iterator[int]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_listening(port, process, what)
        yield port
    finally:
        process.terminate()
        process.wait(10)
        if process.stderr:
            process.stderr.close()


@contextmanager
def private_mosquitto(username: str, password: str) -> Iterator[int]:
    """Mosquitto on a free loopback port that admits only ``username``/``password``."""
    root = Path(tempfile.mkdtemp(prefix="nyxmon-mqtt-"))
    try:
        passwords = root / "passwords"
        subprocess.run(
            ["mosquitto_passwd", "-b", "-c", passwords, username, password],
            check=True, capture_output=True,
        )  # fmt: skip
        # Started as root, mosquitto drops to its own user, which must still read these.
        root.chmod(0o755)
        passwords.chmod(0o644)
        port = closed_port()
        config = root / "mosquitto.conf"
        config.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {passwords}\n"
        )
        with _serve(["mosquitto", "-c", str(config)], port, "mosquitto") as served:
            yield served
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def private_nats(username: str, password: str) -> Iterator[int]:
    """nats-server on a free loopback port that admits only ``username``/``password``."""
    port = closed_port()
    command = ["nats-server", "-a", "127.0.0.1", "-p", str(port), "--user", username,
               "--pass", password]  # fmt: skip
    with _serve(command, port, "nats-server") as served:
        yield served
