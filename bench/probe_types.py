"""Every check type's probe cost against its local peer, and an agent running them all at once.

Part 1, per type: NyxMon's executor (``registry.get(type).execute``, in a process with the
garbage collector set up as ``nyxmon run`` sets it) flat out for ``--seconds``,
``--concurrency`` probes at a time (``--db-concurrency`` for the databases and brokers, which
cap their connections), against the raw client library doing the same operation with the same
concurrency, each side in a process of its own on uvloop. The two sides take turns for
``--rounds`` rounds (this machine's speed drifts by 10-30% within a minute). The operations,
NyxMon's check and its raw twin:

- ``tcp`` banner line, ``tls`` handshake + certificate, ``udp`` datagram and reply, ``ssh``
  identification line: asyncio streams and datagram endpoints;
- ``smtp`` greeting/EHLO/QUIT, ``imap`` greeting/CAPABILITY/LOGOUT, ``pop3`` greeting/CAPA/QUIT,
  ``ftp`` greeting/FEAT/QUIT: the same lines over asyncio streams;
- ``http`` GET and ``json`` GET + parse against nginx: aiohttp, a fresh connection per request
  (bench/http_probe.py compares with bare pycurl as well);
- ``dns`` A query: dnspython's ``asyncquery.udp``; ``icmp`` one echo: a raw ICMP socket;
- ``postgres`` (psycopg), ``mysql`` (aiomysql), ``redis`` (redis-py), ``amqp`` (aiormq), ``mqtt``
  (gmqtt), ``nats`` (nats-py): connect, log in, ``SELECT 1``/PING/open a channel, close;
  ``websocket`` (aiohttp) connect/send/receive/close; ``grpc`` (grpcio) one health Check.

The figures: probes/s of wall time (median round) and, the one the target is on, probes per
second of the client process's CPU time (user + system, all threads; best round of each side,
as timeit takes the least of its repeats: on this shared 2-core machine other tenants only
ever slow a round down, and the wall rate is often the peer's limit, not the client's). Each
round's CPU ratio is shown too.

Peers: nginx (http, json), PostgreSQL, MariaDB, Redis, RabbitMQ, Mosquitto and NATS (the
machine's), and servers this script starts in processes of their own (tcp, tls, udp, dns,
smtp, imap, pop3, ftp, ssh, websocket, grpc). Target: every type >= 0.6x raw.

Part 2: ``--checks`` checks of mixed types (weights in :data:`MIX`) every ``--interval`` s for
``--window`` s, run by a real ``nyxmon run`` process: due runs vs done runs, start lag p99 (from
the store), peak RSS of the agent process alone (from /proc; its dashboard process, which
``nyxmon run`` starts beside it, is reported apart as ``mixed_web_rss_mb``). Targets: >= 99%
done, lag p99 <= 250 ms, RSS <= 160 MB.

    .venv/bin/python bench/probe_types.py [--seconds 2] [--rounds 3] [--types tcp,dns]
        [--checks 5000] [--interval 5] [--window 60] [--skip-mixed] [--skip-types]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import multiprocessing
import os
import signal
import socket
import ssl
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from _common import emit, machine, percentile, table
from agent_throughput import HOSTS, RssSampler, find_nginx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

#: Types whose peers cap connections: they run at ``--db-concurrency``.
DATA_TYPES = {"postgres", "mysql", "redis", "amqp", "mqtt", "nats", "grpc"}
TYPES = (
    *("tcp", "tls", "udp", "http", "json", "dns", "icmp"),
    *("smtp", "imap", "pop3", "ftp", "ssh"),
    *("postgres", "mysql", "redis", "amqp", "mqtt", "nats", "websocket", "grpc"),
)
#: The mixed scenario: checks per 5,000 of each type.
MIX = {
    "http": 1400,
    "json": 250,
    "tcp": 700,
    "tls": 300,
    "udp": 300,
    "dns": 400,
    "icmp": 300,
    "smtp": 150,
    "imap": 100,
    "pop3": 100,
    "ftp": 100,
    "ssh": 100,
    "websocket": 150,
    "redis": 200,
    "postgres": 100,
    "mysql": 100,
    "nats": 100,
    "mqtt": 50,
    "amqp": 50,
    "grpc": 50,
}


# --- peers -------------------------------------------------------------------------------


def _dns_answer(query: bytes) -> bytes | None:
    """A NOERROR answer with one A record (192.0.2.10) to any one-question query."""
    if len(query) < 17:
        return None
    end = 12
    while end < len(query) and query[end] != 0:
        end += query[end] + 1
    question = query[12 : end + 5]
    header = query[:2] + b"\x81\x80" + struct.pack(">HHHH", 1, 1, 0, 0)
    answer = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([192, 0, 2, 10])
    return header + question + answer


def _serve_lines(ports: Any, folder: str) -> None:
    """tcp/tls banners, udp echo, dns, the mail/ftp/ssh line servers and a websocket echo."""
    import uvloop
    from aiohttp import WSMsgType, web
    from tests.servers.line_servers import LineServer
    from tests.servers.tls import make_tls_material

    tls = make_tls_material(Path(folder))

    async def banner(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 bench ready\r\n")
        with contextlib.suppress(OSError):
            await reader.read()
        writer.close()

    async def smtp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 bench ESMTP ready\r\n")
        with contextlib.suppress(OSError):
            while line := await reader.readline():
                verb = line[:4].upper()
                if verb == b"EHLO":
                    writer.write(b"250-bench\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    break
                else:
                    writer.write(b"502 no\r\n")
        writer.close()

    class Udp(asyncio.DatagramProtocol):
        def __init__(self, answer: Callable[[bytes], bytes | None]) -> None:
            self.answer = answer

        def connection_made(self, transport: Any) -> None:
            self.transport = transport

        def datagram_received(self, data: bytes, addr: Any) -> None:
            reply = self.answer(data)
            if reply:
                self.transport.sendto(reply, addr)

    async def ws_echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            if message.type is WSMsgType.TEXT:
                await ws.send_str(message.data)
        return ws

    async def main() -> None:
        loop = asyncio.get_running_loop()
        found: dict[str, Any] = {"ca_file": str(tls.ca_file)}
        plain = await asyncio.start_server(banner, "127.0.0.1", 0, backlog=4096)
        secure = await asyncio.start_server(
            banner, "127.0.0.1", 0, ssl=tls.server_context(), backlog=4096
        )
        mail = await asyncio.start_server(smtp, "127.0.0.1", 0, backlog=4096)
        found["tcp"] = plain.sockets[0].getsockname()[1]
        found["tls"] = secure.sockets[0].getsockname()[1]
        found["smtp"] = mail.sockets[0].getsockname()[1]
        udp, _ = await loop.create_datagram_endpoint(
            lambda: Udp(lambda data: b"pong"), local_addr=("127.0.0.1", 0)
        )
        dns, _ = await loop.create_datagram_endpoint(
            lambda: Udp(_dns_answer), local_addr=("127.0.0.1", 0)
        )
        found["udp"] = udp.get_extra_info("sockname")[1]
        found["dns"] = dns.get_extra_info("sockname")[1]
        servers = []
        for protocol in ("imap", "pop3", "ftp", "ssh"):
            server = LineServer(protocol)  # type: ignore[arg-type]
            await server.__aenter__()
            servers.append(server)
            found[protocol] = server.port
        app = web.Application()
        app.router.add_get("/ws", ws_echo)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
        await site.start()
        found["websocket"] = runner.addresses[0][1]
        ports.put(found)
        await asyncio.Event().wait()

    uvloop.run(main())


def _serve_grpc(ports: Any) -> None:
    """A grpcio health server (its own process and asyncio loop)."""
    import grpc
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    async def main() -> None:
        server = grpc.aio.server()
        servicer = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
        await server.start()
        ports.put({"grpc": port})
        await server.wait_for_termination()

    asyncio.run(main())


def start_nginx(workdir: Path, port: int) -> subprocess.Popen[bytes]:
    """nginx on ``port`` of 127.0.0.1-50: ``/`` says ok, ``/json`` a small JSON document."""
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (workdir / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(workdir, 0o777)
    temp = "".join(f"{k}_temp_path {workdir}/{k}; " for k in ("proxy", "fastcgi", "uwsgi", "scgi"))
    (workdir / "nginx.conf").write_text(
        f"worker_processes 1; daemon off; pid {workdir}/nginx.pid; "
        f"error_log {workdir}/error.log warn; events {{ worker_connections 16384; }} "
        f"http {{ access_log off; client_body_temp_path {workdir}/body; {temp}"
        f"server {{ listen {port} backlog=8192; "
        'location = /json { default_type application/json; return 200 \'{"status":"UP"}\'; } '
        'location / { return 200 "ok\\n"; } } }\n'
    )
    proc = subprocess.Popen(
        [find_nginx(), "-c", str(workdir / "nginx.conf"), "-p", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("nginx did not start")


# --- the two sides -----------------------------------------------------------------------


def check_params(kind: str, ports: dict[str, Any]) -> dict[str, Any]:
    """NyxMon's check of ``kind`` against its peer (what the raw twin does too)."""
    host = "127.0.0.1"
    ports = defaultdict(int, ports)  # only ``kind``'s peer needs to be known
    http = f"http://{host}:{ports['http']}"
    return {
        "tcp": {"host": host, "port": ports["tcp"], "expect": "220"},
        "tls": {"host": host, "port": ports["tls"], "ca_file": ports["ca_file"]},
        "udp": {"host": host, "port": ports["udp"], "payload": "ping"},
        "http": {"url": f"{http}/"},
        "json": {"url": f"{http}/json"},
        "dns": {
            "query_name": "example.test",
            "record_type": "A",
            "server": host,
            "port": ports["dns"],
        },
        "icmp": {"host": host, "count": 1},
        "smtp": {"host": host, "port": ports["smtp"]},
        "imap": {"host": host, "port": ports["imap"]},
        "pop3": {"host": host, "port": ports["pop3"]},
        "ftp": {"host": host, "port": ports["ftp"]},
        "ssh": {"host": host, "port": ports["ssh"]},
        "postgres": {"host": host, "database": "test", "query": "SELECT 1"},
        "mysql": {"host": host, "database": "test", "query": "SELECT 1"},
        "redis": {"host": host},
        "amqp": {"host": host, "username": "guest", "password": "guest"},
        "mqtt": {"host": host},
        "nats": {"host": host},
        "websocket": {
            "url": f"ws://{host}:{ports['websocket']}/ws",
            "send": "ping",
            "expect": "ping",
        },
        "grpc": {"host": host, "port": ports["grpc"]},
    }[kind]


async def _lines(host: str, port: int, say: bytes, until: bytes, bye: bytes) -> bool:
    """Greeting, one command and its (multi-line) reply up to a line starting ``until``, bye."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        greeting = await reader.readline()
        if say:
            writer.write(say)
            while not (line := await reader.readline()).startswith(until):
                if not line:
                    return False
        if bye:
            writer.write(bye)
        return bool(greeting)
    finally:
        writer.transport.abort()


class _Icmp:
    """Echo requests over one raw ICMP socket, replies matched by sequence number."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        self.sock.setblocking(False)
        self.ident = os.getpid() & 0xFFFF
        self.seq = 0
        self.waiting: dict[int, asyncio.Future[None]] = {}
        asyncio.get_running_loop().add_reader(self.sock.fileno(), self._read)

    def _read(self) -> None:
        while True:
            try:
                data = self.sock.recv(2048)
            except BlockingIOError:
                return
            header = (data[0] & 0x0F) * 4
            kind, _, _, ident, seq = struct.unpack_from(">BBHHH", data, header)
            if kind == 0 and ident == self.ident:
                future = self.waiting.pop(seq, None)
                if future is not None and not future.done():
                    future.set_result(None)

    @staticmethod
    def _checksum(packet: bytes) -> int:
        total = sum(struct.unpack(f">{len(packet) // 2}H", packet))
        total = (total >> 16) + (total & 0xFFFF)
        return ~(total + (total >> 16)) & 0xFFFF

    async def echo(self, host: str) -> bool:
        self.seq = (self.seq + 1) & 0xFFFF
        seq = self.seq
        payload = b"\x00" * 56
        header = struct.pack(">BBHHH", 8, 0, 0, self.ident, seq)
        packet = struct.pack(">BBHHH", 8, 0, self._checksum(header + payload), self.ident, seq)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting[seq] = future
        self.sock.sendto(packet + payload, (host, 0))
        await asyncio.wait_for(future, 2)
        return True


async def _raw_one(kind: str, ports: dict[str, Any]) -> Callable[[], Awaitable[bool]]:
    """The raw client library doing ``kind``'s operation once, per call."""
    host = "127.0.0.1"
    loop = asyncio.get_running_loop()
    if kind == "tcp":

        async def one() -> bool:
            reader, writer = await asyncio.open_connection(host, ports["tcp"])
            line = await reader.readline()
            writer.transport.abort()
            return line.startswith(b"220")

    elif kind == "tls":
        context = ssl.create_default_context(cafile=ports["ca_file"])

        async def one() -> bool:
            _, writer = await asyncio.open_connection(
                host, ports["tls"], ssl=context, server_hostname=host
            )
            cert = writer.get_extra_info("ssl_object").getpeercert()
            writer.transport.abort()
            return bool(cert)

    elif kind == "udp":

        class Reply(asyncio.DatagramProtocol):
            def __init__(self) -> None:
                self.got: asyncio.Future[bytes] = loop.create_future()

            def datagram_received(self, data: bytes, addr: Any) -> None:
                if not self.got.done():
                    self.got.set_result(data)

        async def one() -> bool:
            transport, proto = await loop.create_datagram_endpoint(
                Reply, remote_addr=(host, ports["udp"])
            )
            transport.sendto(b"ping")
            data = await proto.got
            transport.close()
            return data == b"pong"

    elif kind in ("http", "json"):
        import aiohttp

        def rst_socket(info: Any) -> socket.socket:
            sock = socket.socket(info[0], info[1], info[2])
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return sock

        connector = aiohttp.TCPConnector(force_close=True, limit=0, socket_factory=rst_socket)
        session = aiohttp.ClientSession(connector=connector)
        url = f"http://{host}:{ports['http']}/" + ("json" if kind == "json" else "")

        async def one() -> bool:
            async with session.get(url) as response:
                body = await response.read()
            if kind == "json":
                json.loads(body)
            return response.status == 200

    elif kind == "dns":
        import dns.asyncquery
        import dns.message

        async def one() -> bool:
            query = dns.message.make_query("example.test", "A")
            answer = await dns.asyncquery.udp(query, host, port=ports["dns"], timeout=2)
            return bool(answer.answer)

    elif kind == "icmp":
        pinger = _Icmp()

        async def one() -> bool:
            return await pinger.echo(host)

    elif kind in ("smtp", "imap", "pop3", "ftp", "ssh"):
        say, until, bye = {
            "smtp": (b"EHLO localhost\r\n", b"250 ", b"QUIT\r\n"),
            "imap": (b"c1 CAPABILITY\r\n", b"c1 ", b"q1 LOGOUT\r\n"),
            "pop3": (b"CAPA\r\n", b".", b"QUIT\r\n"),
            "ftp": (b"FEAT\r\n", b"211 ", b"QUIT\r\n"),
            "ssh": (b"", b"", b""),
        }[kind]

        async def one() -> bool:
            return await _lines(host, ports[kind], say, until, bye)

    elif kind == "postgres":
        import psycopg

        async def one() -> bool:
            conn = await psycopg.AsyncConnection.connect(
                host=host, dbname="test", user="postgres", autocommit=True
            )
            try:
                cursor = await conn.execute("SELECT 1")
                return (await cursor.fetchone()) == (1,)
            finally:
                await conn.close()

    elif kind == "mysql":
        import aiomysql

        async def one() -> bool:
            conn = await aiomysql.connect(host=host, user="root", db="test")
            try:
                async with conn.cursor() as cursor:
                    await cursor.execute("SELECT 1")
                    return (await cursor.fetchone()) == (1,)
            finally:
                conn.close()

    elif kind == "redis":
        from redis.asyncio.connection import Connection

        async def one() -> bool:
            conn = Connection(host=host, port=6379)
            await conn.connect()
            try:
                await conn.send_command("PING")
                return bool(await conn.read_response())
            finally:
                await conn.disconnect()

    elif kind == "amqp":
        import aiormq

        async def one() -> bool:
            conn = await aiormq.connect(f"amqp://guest:guest@{host}/")
            try:
                await conn.channel()
                return True
            finally:
                await conn.close()

    elif kind == "mqtt":
        import gmqtt
        from gmqtt.mqtt.constants import MQTTv311

        counter = iter(range(10**9))

        async def one() -> bool:
            client = gmqtt.Client(f"bench-{os.getpid()}-{next(counter)}")
            await client.connect(host, 1883, version=MQTTv311, keepalive=60)
            await client.disconnect()
            return True

    elif kind == "nats":
        import nats

        async def one() -> bool:
            client = await nats.connect(
                f"nats://{host}:4222", allow_reconnect=False, max_reconnect_attempts=0
            )
            await client.flush()
            await client.close()
            return True

    elif kind == "websocket":
        import aiohttp

        session = aiohttp.ClientSession()
        url = f"ws://{host}:{ports['websocket']}/ws"

        async def one() -> bool:
            async with session.ws_connect(url) as ws:
                await ws.send_str("ping")
                message = await ws.receive()
            return message.data == "ping"

    elif kind == "grpc":
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        # a fresh connection per call, as the probe makes (grpc would share one otherwise)
        options = [("grpc.use_local_subchannel_pool", 1), ("grpc.enable_retries", 0)]

        async def one() -> bool:
            target = f"{host}:{ports['grpc']}"
            async with grpc.aio.insecure_channel(target, options=options) as channel:
                stub = health_pb2_grpc.HealthStub(channel)
                reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
            return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    else:
        raise SystemExit(f"no raw client for {kind}")
    return one


async def _nyxmon_one(kind: str, ports: dict[str, Any]) -> Callable[[], Awaitable[bool]]:
    from tests.servers.checks import make_check

    from nyxmon.probes.registry import builtin_registry

    registry = builtin_registry()
    executor = registry.get(kind)
    check = make_check(kind, check_params(kind, ports), check_id=f"bench.{kind}")
    failures: list[str] = []

    async def one() -> bool:
        result = await executor.execute(check, time.time())
        if not result.outcome.is_success and len(failures) < 3:
            failures.append(result.message)
            print(f"{kind}: {result.message}", file=sys.stderr)
        return result.outcome.is_success

    return one


async def _flat_out(
    one: Callable[[], Awaitable[bool]], seconds: float, concurrency: int
) -> dict[str, float]:
    """Probes/s of wall time, and per second of this process's CPU (all threads, user+sys)."""
    done = failed = 0
    await one()  # warm: imports, first connections
    end = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done, failed
        while time.perf_counter() < end:
            try:
                ok = await one()
            except Exception as exc:
                ok = False
                if failed < 3:
                    print(f"raw failure: {exc!r}", file=sys.stderr)
            if ok:
                done += 1
            else:
                failed += 1

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    if failed > done * 0.01:
        raise SystemExit(f"{failed} of {done + failed} probes failed")
    return {"rate": done / wall, "cpu_rate": done / cpu if cpu > 0 else 0.0}


def child(side: str, kind: str, ports: dict[str, Any], seconds: float, concurrency: int) -> None:
    import uvloop

    async def main() -> dict[str, float]:
        one = await (_nyxmon_one if side == "nyxmon" else _raw_one)(kind, ports)
        if side == "nyxmon":
            # The probes' runtime as ``nyxmon run`` sets it up (src/nyxmon/cli/run.py): what
            # exists at start-up out of the collector's way, collections less often.
            from nyxmon.cli.run import GC_THRESHOLDS

            gc.collect()
            gc.freeze()
            gc.set_threshold(*GC_THRESHOLDS)
        return await _flat_out(one, seconds, concurrency)

    print(json.dumps(uvloop.run(main())))


def run_side(
    side: str, kind: str, ports: dict[str, Any], args: argparse.Namespace
) -> dict[str, float]:
    concurrency = args.db_concurrency if kind in DATA_TYPES else args.concurrency
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            side,
            "--type",
            kind,
            "--ports",
            json.dumps(ports),
            "--seconds",
            str(args.seconds),
            "--concurrency",
            str(concurrency),
        ],
        capture_output=True,
        text=True,
        timeout=args.seconds * 10 + 60,
    )
    if out.returncode != 0:
        raise SystemExit(f"{side} {kind} failed:\n{out.stderr[-2000:]}")
    figures: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def per_type(ports: dict[str, Any], args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Each type's rates, NyxMon's and raw's taking turns; the ratio is of the best round's
    probes per CPU-second of each side (see the module docstring)."""
    kinds = [k for k in (args.types.split(",") if args.types else TYPES) if k]
    runs: dict[str, dict[str, list[dict[str, float]]]] = {
        k: {"nyxmon": [], "raw": []} for k in kinds
    }
    for round_ in range(args.rounds):
        for kind in kinds:
            sides = ("nyxmon", "raw") if round_ % 2 == 0 else ("raw", "nyxmon")
            for side in sides:
                runs[kind][side].append(run_side(side, kind, ports, args))
        print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr)
    figures: dict[str, dict[str, Any]] = {}
    for kind, both in runs.items():
        ours, theirs = both["nyxmon"], both["raw"]
        cpu_ratios = [a["cpu_rate"] / b["cpu_rate"] for a, b in zip(ours, theirs, strict=True)]
        wall_ratios = [a["rate"] / b["rate"] for a, b in zip(ours, theirs, strict=True)]
        best_ours = max(r["cpu_rate"] for r in ours)
        best_theirs = max(r["cpu_rate"] for r in theirs)
        figures[kind] = {
            "nyxmon_per_s": round(statistics.median(r["rate"] for r in ours)),
            "raw_per_s": round(statistics.median(r["rate"] for r in theirs)),
            "nyxmon_per_cpu_s": round(best_ours),
            "raw_per_cpu_s": round(best_theirs),
            "ratio": round(best_ours / best_theirs, 2),
            "median_round_ratio": round(statistics.median(cpu_ratios), 2),
            "wall_ratio": round(statistics.median(wall_ratios), 2),
            "round_ratios": [round(r, 2) for r in cpu_ratios],
        }
    return figures


# --- the mixed agent ---------------------------------------------------------------------


def write_mixed_config(
    path: Path, db: Path, ports: dict[str, Any], checks: int, interval: float, mix: dict[str, int]
) -> list[str]:
    """The agent's config; returns the ids of its checks."""
    from nyxmon.domain.model import check_id_for

    lines = [
        "agent:",
        f"  database: {db}",
        "  concurrency: 1000",
        "  per_host_concurrency: 1000",
        "  shutdown_grace: 5s",
        f"web: {{listen: '127.0.0.1:{ports['http'] + 1}'}}",
        "defaults:",
        f"  interval: {interval:g}s",
        f"  timeout: {min(interval * 0.8, 4.0):g}s",
        "services:",
    ]
    total = sum(mix.values())
    ids: list[str] = []
    number = 0
    for kind, weight in mix.items():
        count = round(checks * weight / total)
        lines.append(f"  - name: {kind}")
        lines.append("    checks:")
        for i in range(count):
            params = dict(check_params(kind, ports))
            if kind in ("http", "json"):
                params["url"] = params["url"].replace("127.0.0.1", f"127.0.0.{i % HOSTS + 1}")
            elif kind == "icmp":
                params["host"] = f"127.0.0.{i % HOSTS + 1}"
            name = f"{kind}{i}"
            lines.append(f"      - {json.dumps({'name': name, 'type': kind, **params})}")
            ids.append(check_id_for(kind, name))
            number += 1
    path.write_text("\n".join(lines) + "\n")
    return ids


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ChildRssSampler(RssSampler):
    """Peak RSS of the agent's child processes together (the dashboard's ``nyxmon web``):
    the target is on the agent process alone, this says what the web plane adds."""

    def run(self) -> None:
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        while not self.stop.wait(0.5):
            try:
                pids = children.read_text().split()
            except FileNotFoundError:
                return
            total = 0
            for pid in pids:
                with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1])
            self.peak_kb = max(self.peak_kb, total)


def mixed(ports: dict[str, Any], workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    from nyxmon.agent.scheduler import phase_of
    from nyxmon.store.sqlite import SqliteStore

    db = workdir / "mixed.db"
    config = workdir / "mixed.yaml"
    mix = dict(MIX)
    if args.mix:
        mix = {k: int(v) for k, _, v in (item.partition("=") for item in args.mix.split(","))}
    ids = write_mixed_config(config, db, ports, args.checks, args.interval, mix)
    log = (workdir / "mixed.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "nyxmon", "run", "--config", str(config), "--log-level", "warning"],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )
    sampler = RssSampler(proc.pid)  # the agent process alone
    sampler.start()
    web_sampler = ChildRssSampler(proc.pid)
    web_sampler.start()
    try:
        time.sleep(args.interval + 5)  # start-up and the first round of every check
        t0, cpu0, load0 = time.time(), _cpu_seconds(proc.pid), os.getloadavg()[0]
        time.sleep(args.window)
        t1, cpu1, load1 = time.time(), _cpu_seconds(proc.pid), os.getloadavg()[0]
        time.sleep(args.interval + 2)  # runs due before t1 finish and get written
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
        log.close()
        sampler.stop.set()
        web_sampler.stop.set()
    if code != 0:
        raise SystemExit(f"agent exited with {code}: {Path(log.name).read_text()[-3000:]}")
    print(Path(log.name).read_text()[-3000:], file=sys.stderr)
    due = 0
    lags: list[float] = []
    failed: dict[str, int] = {}
    with SqliteStore(str(db), readonly=True) as store:
        for check_id in ids:
            phase = phase_of(check_id) * args.interval
            first = t0 + ((phase - t0) % args.interval)
            if first < t1:
                due += int((t1 - first) // args.interval) + 1
            cursor = None
            while True:
                page = store.results(
                    check_id, since=t0 - 60, until=t1 + 60, limit=1000, after=cursor
                )
                for stored in page.items:
                    result = stored.result
                    if t0 <= result.scheduled_at < t1:
                        lags.append(result.start_lag * 1000)
                        if not result.outcome.is_success:
                            kind = check_id.split(".")[0]
                            failed[kind] = failed.get(kind, 0) + 1
                cursor = page.next_cursor
                if cursor is None:
                    break
    return {
        "checks": len(ids),
        "due": due,
        "done": len(lags),
        "done_ratio": len(lags) / due if due else 0.0,
        "lag_p50_ms": percentile(lags, 50),
        "lag_p99_ms": percentile(lags, 99),
        "rss_mb": sampler.peak_kb / 1024,
        "web_rss_mb": web_sampler.peak_kb / 1024,
        "failed_by_type": failed,
        "agent_cpu": (cpu1 - cpu0) / (t1 - t0),
        "load": (load0 + load1) / 2,
    }


# --- main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per type and side and round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--db-concurrency", type=int, default=10)
    parser.add_argument("--types", default="", help="comma-separated types (default: all)")
    parser.add_argument("--checks", type=int, default=5000)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--skip-mixed", action="store_true")
    parser.add_argument("--mix", default="", help="type=weight,... (default: MIX)")
    parser.add_argument("--skip-types", action="store_true")
    parser.add_argument("--child", choices=("nyxmon", "raw"), help=argparse.SUPPRESS)
    parser.add_argument("--type", help=argparse.SUPPRESS)
    parser.add_argument("--ports", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.type, json.loads(args.ports), args.seconds, args.concurrency)
        return

    queue: Any = multiprocessing.Queue()
    peers = []
    with tempfile.TemporaryDirectory(prefix="nyxmon-bench-") as tmp:
        workdir = Path(tmp)
        port = 19080 + os.getpid() % 1000
        nginx = start_nginx(workdir / "nginx", port)
        try:
            for target, extra in ((_serve_lines, (str(workdir),)), (_serve_grpc, ())):
                peer = multiprocessing.Process(target=target, args=(queue, *extra), daemon=True)
                peer.start()
                peers.append(peer)
            ports: dict[str, Any] = {"http": port}
            for _ in peers:
                ports.update(queue.get(timeout=60))
            types = {} if args.skip_types else per_type(ports, args)
            mix = None if args.skip_mixed else mixed(ports, workdir, args)
        finally:
            for peer in peers:
                peer.kill()
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(10)
    print(f"NyxMon probes vs their raw client libraries ({machine()})")
    if types:
        print(
            table(
                [
                    *("type", "nyxmon/s", "raw/s", "wall ratio"),
                    *("nyxmon/CPU-s", "raw/CPU-s", "ratio", "CPU ratio by round"),
                ],
                [
                    [
                        *(k, v["nyxmon_per_s"], v["raw_per_s"], v["wall_ratio"]),
                        *(v["nyxmon_per_cpu_s"], v["raw_per_cpu_s"], v["ratio"]),
                        str(v["round_ratios"]),
                    ]
                    for k, v in types.items()
                ],
            )
        )
    if mix is not None:
        print(
            f"\nmixed: {mix['checks']} checks every {args.interval:g}s for {args.window:g}s: "
            f"{mix['done']}/{mix['due']} due runs done ({mix['done_ratio'] * 100:.2f}%), start "
            f"lag p50 {mix['lag_p50_ms']:.1f} ms p99 {mix['lag_p99_ms']:.1f} ms, agent RSS "
            f"{mix['rss_mb']:.0f} MB (its web process {mix['web_rss_mb']:.0f} MB), "
            f"agent CPU {mix['agent_cpu'] * 100:.0f}% of a core "
            f"(machine load {mix['load']:.1f}); failed runs by type: "
            f"{mix['failed_by_type'] or 'none'}"
        )
    lowest = min((v["ratio"] for v in types.values()), default=None)
    print(
        "\ntargets: every type >= 0.6x raw"
        + (f" (lowest {lowest:.2f}x)" if lowest is not None else "")
        + "; mixed >= 99% done, lag p99 <= 250 ms, RSS <= 160 MB"
    )
    emit(
        {
            "benchmark": "probe_types",
            "machine": machine(),
            "types": types,
            "min_type_ratio": lowest,
            "mixed_checks": mix["checks"] if mix else None,
            "mixed_due": mix["due"] if mix else None,
            "mixed_done_ratio": round(mix["done_ratio"], 4) if mix else None,
            "mixed_lag_p50_ms": round(mix["lag_p50_ms"], 1) if mix else None,
            "mixed_lag_p99_ms": round(mix["lag_p99_ms"], 1) if mix else None,
            "mixed_rss_mb": round(mix["rss_mb"], 1) if mix else None,
            "mixed_web_rss_mb": round(mix["web_rss_mb"], 1) if mix else None,
            "mixed_failed_by_type": mix["failed_by_type"] if mix else None,
            "mixed_agent_cpu": round(mix["agent_cpu"], 3) if mix else None,
            "machine_load": round(mix["load"], 2) if mix else None,
        }
    )


if __name__ == "__main__":
    main()
