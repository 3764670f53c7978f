"""ICMP echo over one socket per address family, shared by every ping of an executor.

Two kinds of socket can send pings: an unprivileged *datagram* ICMP socket (Linux allows it to
the groups in ``net.ipv4.ping_group_range``; the kernel picks the identifier and delivers only
our replies) and a *raw* socket (needs CAP_NET_RAW; sees every ICMP packet of the host, so
replies are matched by our identifier). :func:`open_pinger` tries datagram first, then raw, and
the result says which it got. Replies are read by a loop reader callback and matched to the
waiting ping by (address, sequence number): one socket serves thousands of checks, no thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import os
import socket
import struct
import time
from collections.abc import Sequence
from typing import Literal

__all__ = ["PingUnavailable", "Pinger", "open_pinger"]

SocketKind = Literal["datagram", "raw"]
_ECHO_REQUEST: dict[int, int] = {socket.AF_INET: 8, socket.AF_INET6: 128}
_ECHO_REPLY: dict[int, int] = {socket.AF_INET: 0, socket.AF_INET6: 129}
_PROTO: dict[int, int] = {
    socket.AF_INET: socket.IPPROTO_ICMP,
    socket.AF_INET6: socket.IPPROTO_ICMPV6,
}


#: An echo reply with the largest payload a check may send (1,400 bytes), its IP header and
#: room to spare; a bigger buffer costs an allocation of its size for every packet read.
_READ_SIZE = 2048


class PingUnavailable(Exception):
    """Neither kind of ICMP socket may be opened by this process."""


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


@functools.lru_cache(maxsize=64)
def _payload_sum(payload: bytes) -> int:
    """The one's-complement sum's start for ``payload`` (the same bytes every run)."""
    data = payload + b"\0" if len(payload) % 2 else payload
    return sum(struct.unpack(f"!{len(data) // 2}H", data))


class Pinger:
    """Sends echo requests from one socket and resolves each with its reply's arrival time."""

    def __init__(self, sock: socket.socket, family: int, kind: SocketKind) -> None:
        self.family = family
        self.kind = kind
        self._sock = sock
        self._ident = os.getpid() & 0xFFFF
        self._seq = int.from_bytes(os.urandom(2), "big")
        self._waiting: dict[tuple[str, int], asyncio.Future[float]] = {}
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(sock.fileno(), self._read)

    def send(self, address: str, payload: bytes) -> tuple[int, asyncio.Future[float]]:
        """Send one echo request: its sequence number and a future that gets the perf_counter
        time its reply arrived.

        ``address`` must be written as the kernel reports peers (``str(ip_address(...))``).
        Raises OSError when the kernel refuses to send (no route, ...)."""
        self._seq = seq = (self._seq + 1) & 0xFFFF
        kind = _ECHO_REQUEST[self.family]
        if self.family == socket.AF_INET:
            total = _payload_sum(payload) + (kind << 8) + self._ident + seq
            total = (total >> 16) + (total & 0xFFFF)
            checksum = ~(total + (total >> 16)) & 0xFFFF
        else:
            checksum = 0  # the kernel fills in ICMPv6 checksums
        packet = struct.pack("!BBHHH", kind, 0, checksum, self._ident, seq)
        future: asyncio.Future[float] = self._loop.create_future()
        key = (address, seq)
        self._waiting[key] = future
        try:
            self._sock.sendto(packet + payload, (address, 0))
        except OSError:
            del self._waiting[key]
            raise
        return seq, future

    def forget(self, address: str, seqs: Sequence[int]) -> None:
        """Stop waiting for replies to these requests (the run is over)."""
        waiting = self._waiting
        for seq in seqs:
            waiting.pop((address, seq), None)

    def _read(self) -> None:
        now = time.perf_counter()
        while True:
            try:
                data, peer = self._sock.recvfrom(_READ_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # an ICMP error queued on the socket; the ping just counts as lost
            if self.family == socket.AF_INET and self.kind == "raw":
                data = data[(data[0] & 0x0F) * 4 :]  # raw IPv4 sockets include the IP header
            if len(data) < 8 or data[0] != _ECHO_REPLY[self.family]:
                continue
            ident, seq = struct.unpack("!HH", data[4:8])
            if self.kind == "raw" and ident != self._ident:
                continue  # another program's ping
            address = peer[0]
            if self.family != socket.AF_INET:  # IPv6: canonical form, without a scope
                address = str(ipaddress.ip_address(address.split("%", 1)[0]))
            future = self._waiting.pop((address, seq), None)
            if future is not None and not future.done():
                future.set_result(now)

    def close(self) -> None:
        self._loop.remove_reader(self._sock.fileno())
        self._sock.close()
        for future in self._waiting.values():
            future.cancel()
        self._waiting.clear()


#: Linux's per-socket ICMP type filter for raw IPv4 sockets (``linux/icmp.h``): a set bit
#: drops that type in the kernel.
_SOL_RAW = 255
_ICMP_FILTER = 1


def _only_echo_replies(sock: socket.socket) -> None:
    """Let only echo replies reach a raw socket: it would otherwise read every ICMP packet of
    the host, our own echo requests included (on loopback, one extra read per ping)."""
    with contextlib.suppress(OSError):  # not Linux: the reader skips them itself
        sock.setsockopt(_SOL_RAW, _ICMP_FILTER, struct.pack("I", ~(1 << 0) & 0xFFFFFFFF))


def open_pinger(family: int) -> Pinger:
    """A pinger on a datagram ICMP socket if allowed, else on a raw one."""
    problems = []
    kind: SocketKind
    for kind, sock_type in (("datagram", socket.SOCK_DGRAM), ("raw", socket.SOCK_RAW)):
        try:
            sock = socket.socket(family, sock_type, _PROTO[family])
        except OSError as exc:
            problems.append(f"{kind}: {exc.strerror or exc}")
            continue
        sock.setblocking(False)
        if kind == "raw" and family == socket.AF_INET:
            _only_echo_replies(sock)
        return Pinger(sock, family, kind)
    raise PingUnavailable(
        "cannot open an ICMP socket ("
        + "; ".join(problems)
        + "): allow the agent's group in net.ipv4.ping_group_range or give it CAP_NET_RAW"
    )
