"""A user-space ICMP echo responder that loses and delays replies on purpose.

This kernel has no ``sch_netem`` (CONFIG_NET_SCH_NETEM is not set) and the machine no nft or
iptables binary, so loss and delay cannot be injected in the kernel's path. Instead the target
namespace ignores echo requests itself (``net.ipv4.icmp_echo_ignore_all``,
``net.ipv6.icmp.echo_ignore_all``) and this program answers them from raw sockets: it drops
every ``--drop-every``-th request (1st, then N+1st, ... counted per family) and sends each
other reply ``--delay-ms`` after the request came. Run inside the target namespace:
``python -m tests.servers.icmp_responder --delay-ms 40 --drop-every 4``; it prints ``ready``.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import struct


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def _serve(family: int, delay: float, drop_every: int) -> None:
    proto = socket.IPPROTO_ICMP if family == socket.AF_INET else socket.IPPROTO_ICMPV6
    request, reply = (8, 0) if family == socket.AF_INET else (128, 129)
    sock = socket.socket(family, socket.SOCK_RAW, proto)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    seen = 0

    def answer(packet: bytes, peer: tuple[str, ...]) -> None:
        body = struct.pack("!BBH", reply, 0, 0) + packet[4:]
        if family == socket.AF_INET:
            body = struct.pack("!BBH", reply, 0, _checksum(body)) + packet[4:]
        sock.sendto(body, peer)

    def readable() -> None:
        nonlocal seen
        while True:
            try:
                data, peer = sock.recvfrom(65_535)
            except BlockingIOError:
                return
            if family == socket.AF_INET:
                data = data[(data[0] & 0x0F) * 4 :]
            if len(data) < 8 or data[0] != request:
                continue
            seen += 1
            if drop_every and (seen - 1) % drop_every == 0:
                continue
            loop.call_later(delay, answer, data, peer)

    loop.add_reader(sock.fileno(), readable)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--drop-every", type=int, default=0)
    args = parser.parse_args()
    for family in (socket.AF_INET, socket.AF_INET6):
        _serve(family, args.delay_ms / 1000, args.drop_every)
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
