"""Network probe cost: NyxMon's tcp, tls and udp executors vs the raw asyncio calls they wrap.

Each pair does the same thing flat out for ``--seconds`` against a local peer, ``--concurrency``
at a time, on uvloop, taking turns for ``--rounds`` rounds (the machine's speed drifts), and the
figure is the median round's probes per second:

- ``tcp``: connect and read a banner line (executor ``tcp`` with ``expect``) vs
  ``asyncio.open_connection`` + ``readline`` + abort;
- ``tls``: the ``tls`` executor (handshake, certificate read and judged) vs
  ``open_connection(ssl=...)`` + ``getpeercert`` + abort;
- ``udp``: the ``udp`` executor vs a connected datagram endpoint, one datagram and its reply.

The peers run in another process so their CPU does not count against the clients.

    .venv/bin/python bench/net_probes.py [--seconds 3] [--rounds 3] [--concurrency 100]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvloop

from _common import emit, machine, table
from nyxmon.probes.registry import builtin_registry

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.servers.checks import make_check
from tests.servers.tls import make_tls_material


def _serve(ports: Any, folder: str) -> None:
    tls = make_tls_material(Path(folder))

    async def banner(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 bench ready\r\n")
        with contextlib.suppress(OSError):
            await reader.read()
        writer.close()

    class Echo(asyncio.DatagramProtocol):
        def connection_made(self, transport: Any) -> None:
            self.transport = transport

        def datagram_received(self, data: bytes, addr: Any) -> None:
            self.transport.sendto(b"pong", addr)

    async def main() -> None:
        plain = await asyncio.start_server(banner, "127.0.0.1", 0, backlog=1024)
        secure = await asyncio.start_server(
            banner, "127.0.0.1", 0, ssl=tls.server_context(), backlog=1024
        )
        loop = asyncio.get_running_loop()
        udp, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
        ports.put(
            (
                plain.sockets[0].getsockname()[1],
                secure.sockets[0].getsockname()[1],
                udp.get_extra_info("sockname")[1],
                str(tls.ca_file),
            )
        )
        await asyncio.Event().wait()

    uvloop.run(main())


async def _flat_out(one: Callable[[], Awaitable[bool]], seconds: float, concurrency: int) -> float:
    done = 0
    failed = 0
    end = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done, failed
        while time.perf_counter() < end:
            if await one():
                done += 1
            else:
                failed += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    if failed:
        raise SystemExit(f"{failed} probes failed")
    return done / (time.perf_counter() - started)


async def _measure(args: argparse.Namespace, ports: tuple[int, int, int, str]) -> dict[str, Any]:
    tcp_port, tls_port, udp_port, ca_file = ports
    registry = builtin_registry()
    context = ssl.create_default_context(cafile=ca_file)
    loop = asyncio.get_running_loop()
    checks = {
        "tcp": make_check("tcp", {"host": "127.0.0.1", "port": tcp_port, "expect": "220"}),
        "tls": make_check("tls", {"host": "127.0.0.1", "port": tls_port, "ca_file": ca_file}),
        "udp": make_check("udp", {"host": "127.0.0.1", "port": udp_port, "payload": "ping"}),
    }

    def nyxmon(kind: str) -> Callable[[], Awaitable[bool]]:
        executor, check = registry.get(kind), checks[kind]

        async def one() -> bool:
            result = await executor.execute(check, time.time())
            return result.outcome.is_success

        return one

    async def raw_tcp() -> bool:
        reader, writer = await asyncio.open_connection("127.0.0.1", tcp_port)
        line = await reader.readline()
        writer.transport.abort()
        return line.startswith(b"220")

    async def raw_tls() -> bool:
        _, writer = await asyncio.open_connection(
            "127.0.0.1", tls_port, ssl=context, server_hostname="127.0.0.1"
        )
        cert = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        writer.transport.abort()
        return bool(cert)

    class Reply(asyncio.DatagramProtocol):
        def __init__(self) -> None:
            self.got: asyncio.Future[bytes] = loop.create_future()

        def datagram_received(self, data: bytes, addr: Any) -> None:
            if not self.got.done():
                self.got.set_result(data)

    async def raw_udp() -> bool:
        transport, proto = await loop.create_datagram_endpoint(
            Reply, remote_addr=("127.0.0.1", udp_port)
        )
        transport.sendto(b"ping")
        data = await proto.got
        transport.close()
        return data == b"pong"

    pairs = {"tcp": raw_tcp, "tls": raw_tls, "udp": raw_udp}
    rates: dict[str, dict[str, list[float]]] = {k: {"nyxmon": [], "raw": []} for k in pairs}
    for _round in range(args.rounds):
        for kind, raw in pairs.items():
            rates[kind]["nyxmon"].append(
                await _flat_out(nyxmon(kind), args.seconds, args.concurrency)
            )
            rates[kind]["raw"].append(await _flat_out(raw, args.seconds, args.concurrency))
    await registry.aclose_all()
    out: dict[str, Any] = {}
    for kind, both in rates.items():
        ours, theirs = statistics.median(both["nyxmon"]), statistics.median(both["raw"])
        out[kind] = {
            "nyxmon_per_s": round(ours),
            "raw_per_s": round(theirs),
            "ratio": round(ours / theirs, 2),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()
    ports: Any = multiprocessing.Queue()
    with tempfile.TemporaryDirectory() as folder:
        peer = multiprocessing.Process(target=_serve, args=(ports, folder), daemon=True)
        peer.start()
        try:
            found = ports.get(timeout=30)
            figures = uvloop.run(_measure(args, found))
        finally:
            peer.kill()
    print(
        table(
            ["type", "nyxmon/s", "raw/s", "ratio"],
            [[k, v["nyxmon_per_s"], v["raw_per_s"], v["ratio"]] for k, v in figures.items()],
        )
    )
    emit({"benchmark": "net_probes", "machine": machine(), **figures})


if __name__ == "__main__":
    main()
