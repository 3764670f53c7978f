"""Peers that fail in the two ways every network probe must survive: a port where nothing
listens (refused at once) and a listener that accepts connections but never says a word."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["closed_port", "silent_listener"]


def closed_port() -> int:
    """A loopback port that was free a moment ago and has no listener: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextmanager
def silent_listener() -> Iterator[int]:
    """A loopback port whose listener never accepts: the kernel completes the TCP handshake
    (the backlog holds the connection), and then nothing ever answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]
