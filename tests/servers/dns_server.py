"""A real DNS server (dnslib) on 127.0.0.1, UDP and TCP on one ephemeral port.

It serves the zone in :data:`ZONE` (every record type the probes support), answers NXDOMAIN for
names it does not know and NOERROR with no answer (NODATA) for known names asked for a type they
lack. Two names misbehave on purpose: ``slow.example.test`` answers after ``slow_delay``
seconds and ``servfail.example.test`` answers SERVFAIL; ``delay`` and ``servfail`` do the same
for every name. UDP answers larger than 512 bytes are truncated, so a UDP client must retry
over TCP (``big.example.test`` has enough TXT records to force that).

Use ``with DnsTestServer() as server: server.port`` (threads, works from sync and async tests).
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from types import TracebackType
from typing import Any

from dnslib import QTYPE, RCODE, RR, DNSLabel, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSLogger, DNSServer

__all__ = ["ZONE", "DnsTestServer"]

ZONE = """
example.test.                 300 IN A     192.0.2.10
example.test.                 300 IN A     192.0.2.11
example.test.                 300 IN AAAA  2001:db8::10
example.test.                 300 IN MX    10 mail.example.test.
example.test.                 300 IN MX    20 backup.example.test.
example.test.                 300 IN TXT   "v=spf1 -all"
example.test.                 300 IN TXT   "hello world"
example.test.                 300 IN NS    ns1.example.test.
example.test.                 300 IN NS    ns2.example.test.
example.test.                 300 IN SOA   ns1.example.test. admin.example.test. (
                                             2024010101 3600 600 86400 300 )
example.test.                 300 IN CAA   0 issue "letsencrypt.org"
www.example.test.             300 IN CNAME example.test.
mail.example.test.            300 IN A     192.0.2.25
_http._tcp.example.test.      300 IN SRV   10 5 8080 web.example.test.
10.2.0.192.in-addr.arpa.      300 IN PTR   example.test.
slow.example.test.            300 IN A     192.0.2.99
servfail.example.test.        300 IN A     192.0.2.98
"""

_BIG_TXT = [f'big.example.test. 300 IN TXT "record-{i:02d}-{"y" * 60}"' for i in range(20)]


class _NullLogger(DNSLogger):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(log="-recv,-send,-request,-reply,-truncated,-error,-data")


class _Handler(DNSHandler):  # type: ignore[misc]
    udplen = 512


class _ZoneResolver(BaseResolver):  # type: ignore[misc]
    def __init__(self, server: DnsTestServer) -> None:
        self._server = server
        self._records: list[Any] = RR.fromZone(ZONE + "\n".join(_BIG_TXT))

    def _lookup(self, name: DNSLabel, qtype: int) -> tuple[list[Any], bool]:
        """(records of ``name`` of ``qtype``, following CNAMEs), and whether the name exists."""
        answers: list[Any] = []
        exists = False
        for _hop in range(8):
            records = [rr for rr in self._records if rr.rname == name]
            if not records:
                break
            exists = True
            matching = [rr for rr in records if rr.rtype == qtype or qtype == QTYPE.ANY]
            if matching:
                return answers + matching, True
            cnames = [rr for rr in records if rr.rtype == QTYPE.CNAME]
            if not cnames:
                break
            answers.extend(cnames)
            name = cnames[0].rdata.label
        return answers, exists

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        server = self._server
        name = request.q.qname
        server.record_query(str(name), QTYPE[request.q.qtype], handler.protocol)
        reply = request.reply()
        delay = server.slow_delay if name == "slow.example.test." else server.delay
        if delay:
            time.sleep(delay)
        if server.servfail or name == "servfail.example.test.":
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        answers, exists = self._lookup(name, request.q.qtype)
        if not exists:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        for rr in answers:
            reply.add_answer(rr)
        return reply


class DnsTestServer:
    """The test DNS server; start/stop or use as a context manager.

    ``queries`` counts ``(name, type, protocol)`` of every query received, so tests can see
    that a probe really used TCP.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.delay = 0.0
        self.slow_delay = 2.0
        self.servfail = False
        self.queries: Counter[tuple[str, str, str]] = Counter()
        self._lock = threading.Lock()
        self._servers: list[Any] = []

    def record_query(self, name: str, qtype: str, protocol: str) -> None:
        with self._lock:
            self.queries[(name, qtype, protocol)] += 1

    def start(self) -> DnsTestServer:
        """Serve on a free port, or, started again after :meth:`stop`, on the port it had
        (a DNS server that went away and came back)."""
        resolver = _ZoneResolver(self)
        wanted = self.port
        for _attempt in range(1 if wanted else 20):
            udp = DNSServer(
                resolver, address=self.host, port=wanted, logger=_NullLogger(), handler=_Handler
            )
            port = udp.server.server_address[1]
            try:
                tcp = DNSServer(
                    resolver,
                    address=self.host,
                    port=port,
                    tcp=True,
                    logger=_NullLogger(),
                    handler=_Handler,
                )
            except OSError:
                udp.server.server_close()
                continue
            self.port = port
            self._servers = [udp, tcp]
            for server in self._servers:
                threading.Thread(
                    target=server.server.serve_forever,
                    kwargs={"poll_interval": 0.02},
                    name=f"dns-test-server-{port}",
                    daemon=True,
                ).start()
            return self
        raise RuntimeError("no port free for both UDP and TCP")

    def stop(self) -> None:
        for server in self._servers:
            server.server.shutdown()
            server.server.server_close()
        self._servers = []

    def __enter__(self) -> DnsTestServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port nothing listens on right now (for 'wrong server' tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port
