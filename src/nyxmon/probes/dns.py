"""The ``dns`` check type: one query to a chosen (or the system's) DNS server.

A run passes when the response code is the expected one (NOERROR by default), the answers match
the expected values in the chosen mode and every condition holds. ``any_of`` needs one expected
value among the answers, ``all_of`` every one, ``exactly`` the same set. Values compare
loosely where DNS is loose: names without case or trailing dot, IPv6 in any spelling, and an MX,
SRV, SOA or CAA answer also matches by its target alone (``mail.example.com`` matches
``10 mail.example.com.``). UDP queries retry over TCP when the answer is truncated.

Several ``servers`` (IP addresses or host names, resolved by the system and kept a minute) are
asked in order in ``failover`` mode: a server that cannot be reached or does not answer within
its share of the timeout gives way to the next, and the first answer decides (the details name
the servers that failed). In ``all`` mode every server is asked at once and each must pass: a
monitor of a zone's secondaries.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from typing import Any, ClassVar

import dns.asyncquery
import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.reversename

from nyxmon.checktypes.dns import DnsSpec, split_server
from nyxmon.domain.conditions import Observation, evaluate_all
from nyxmon.domain.model import Outcome, Result
from nyxmon.probes.base import (
    PreparedCheck,
    ProbeExecutor,
    ProbeRun,
    os_error_reason,
)
from nyxmon.probes.registry import SharedResources
from nyxmon.probes.stream_session import show_target

__all__ = ["TYPE_NAME", "DnsExecutor", "create_executor"]

_ADDRESS_TYPES = ("A", "AAAA")
_TARGET_TYPES = ("MX", "SRV", "CAA")
_SHOWN_ANSWERS = 20

TYPE_NAME = "dns"
_RESOLVED_TTL = 60.0
_RESOLVED_LIMIT = 10_000


class _NoServer(Exception):
    """No server in the check and none in the system configuration."""


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip())
    except ValueError:
        return False
    return True


def _normalize(record_type: str, text: str) -> str:
    if record_type in _ADDRESS_TYPES:
        try:
            return str(ipaddress.ip_address(text.strip()))
        except ValueError:
            return text.strip()
    if record_type == "TXT":
        return text
    tokens = text.replace('"', " ").split()
    return " ".join(token.rstrip(".").lower() or "." for token in tokens)


def _answer_texts(record_type: str, rdata: Any) -> str:
    if record_type == "TXT":
        return b"".join(rdata.strings).decode("utf-8", "replace")
    text: str = rdata.to_text()
    return text


def _keys(record_type: str, answer: str) -> set[str]:
    """What an expected value may equal to match ``answer``: itself, or its target."""
    full = _normalize(record_type, answer)
    keys = {full}
    if record_type in _TARGET_TYPES or record_type == "SOA":
        tokens = full.split()
        keys.add(tokens[0] if record_type == "SOA" else tokens[-1])
    return keys


def _match_problem(spec: DnsSpec, answers: list[str]) -> str | None:
    rtype = spec.record_type
    answer_keys = [_keys(rtype, answer) for answer in answers]
    wanted = [_normalize(rtype, value) for value in spec.expected]
    found = [any(value in keys for keys in answer_keys) for value in wanted]
    shown = ", ".join(answers) or "none"
    if spec.match == "any_of" and not any(found):
        return f"answers ({shown}) contain none of {', '.join(spec.expected)}"
    if spec.match in ("all_of", "exactly") and not all(found):
        missing = [value for value, ok in zip(spec.expected, found, strict=True) if not ok]
        return f"answers ({shown}) lack {', '.join(missing)}"
    if spec.match == "exactly":
        extra = [a for a, keys in zip(answers, answer_keys, strict=True) if not keys & set(wanted)]
        if extra:
            return f"answers include unexpected {', '.join(extra)}"
    return None


class DnsExecutor(ProbeExecutor[DnsSpec]):
    """Runs ``dns`` checks with dnspython's async query functions (no shared resources)."""

    type_name: ClassVar[str] = TYPE_NAME
    spec_model = DnsSpec

    def __init__(self) -> None:
        super().__init__()
        self._system_server: str | None = None
        self._resolved: dict[str, tuple[str, float]] = {}

    def _system_servers(self) -> list[str]:
        if self._system_server is None:
            nameservers = dns.resolver.Resolver().nameservers
            if not nameservers:
                raise _NoServer("/etc/resolv.conf lists no nameserver")
            self._system_server = str(nameservers[0])
        return [self._system_server]

    async def _address(self, server: str) -> str:
        """``server`` as an IP address: itself, or its name resolved (cached for a minute)."""
        if _is_ip(server):
            return server
        now = time.monotonic()
        cached = self._resolved.get(server)
        if cached is not None and cached[1] > now:
            return cached[0]
        infos = await asyncio.get_running_loop().getaddrinfo(server, None, type=socket.SOCK_DGRAM)
        address = str(infos[0][4][0])
        if len(self._resolved) >= _RESOLVED_LIMIT:
            self._resolved.clear()
        self._resolved[server] = (address, now + _RESOLVED_TTL)
        return address

    async def _ask(
        self,
        run: ProbeRun,
        spec: DnsSpec,
        server: str,
        query: dns.message.Message,
        wait: float | None,
    ) -> tuple[str, dns.message.Message | str, float]:
        """(where, the response or why there is none, seconds the query took)."""
        sent = time.perf_counter()
        host, own_port = split_server(server)
        port = own_port or spec.port
        where = show_target(host, port)
        try:
            address = await self._address(host)
            if address != host:
                where = f"{host} ({address}):{port}"
            if spec.protocol == "tcp":
                response = await dns.asyncquery.tcp(
                    query, address, port=port, source=spec.source_address, timeout=wait
                )
            else:
                response, used_tcp = await dns.asyncquery.udp_with_fallback(
                    query, address, port=port, source=spec.source_address, timeout=wait
                )
                if used_tcp:
                    run.details["tcp_fallback"] = True
        except socket.gaierror:
            return where, f"cannot resolve DNS server {server}", time.perf_counter() - sent
        except OSError as exc:
            return where, f"DNS server {where} unreachable: {os_error_reason(exc)}", 0.0
        except dns.exception.Timeout:
            return where, f"no answer from {where} within {wait or 0:.1f} s", 0.0
        except dns.exception.DNSException as exc:
            return where, f"bad answer from {where}: {exc}", 0.0
        return where, response, time.perf_counter() - sent

    async def probe(self, run: ProbeRun, prepared: PreparedCheck[DnsSpec]) -> Result:
        spec = prepared.spec
        try:
            servers = spec.server_list() or self._system_servers()
        except (dns.exception.DNSException, _NoServer) as exc:
            return run.finish(Outcome.ERROR, f"no DNS server given and none configured: {exc}")
        run.details["protocol"] = spec.protocol
        rdtype = dns.rdatatype.from_text(spec.record_type)
        query = dns.message.make_query(spec.qname(), rdtype)
        if spec.servers_mode == "all" and len(servers) > 1:
            return await self._ask_all(run, prepared, servers, query, rdtype)
        host, port = split_server(servers[0])
        run.details["server"] = show_target(host, port or spec.port)
        tried: list[str] = []
        for index, server in enumerate(servers):
            left = run.start + run.check.timeout - time.perf_counter()
            # A server that does not answer leaves the rest their share of the timeout.
            share = left / (len(servers) - index) if len(servers) > 1 else None
            where, answer, took = await self._ask(run, spec, server, query, share)
            run.details["server"] = where
            if isinstance(answer, str):
                tried.append(answer)
                continue
            if tried:
                run.details["failed_servers"] = tried
            run.timings["query"] = took
            run.timings["total"] = run.elapsed()
            problems, summary = self._verdict(prepared, answer, rdtype, took, run)
            if problems:
                return run.finish(Outcome.FAIL, "; ".join(problems))
            return run.finish(Outcome.OK, summary)
        if len(tried) == 1:
            return run.finish(Outcome.ERROR, tried[0])
        return run.finish(Outcome.ERROR, "no DNS server answered: " + "; ".join(tried))

    async def _ask_all(
        self,
        run: ProbeRun,
        prepared: PreparedCheck[DnsSpec],
        servers: list[str],
        query: dns.message.Message,
        rdtype: dns.rdatatype.RdataType,
    ) -> Result:
        spec = prepared.spec
        left = run.start + run.check.timeout - time.perf_counter() - 0.05
        asked = await asyncio.gather(*(self._ask(run, spec, s, query, left) for s in servers))
        problems: list[str] = []
        per_server: dict[str, str] = {}
        slowest = 0.0
        for where, answer, took in asked:
            if isinstance(answer, str):
                problems.append(answer)
                per_server[where] = "no answer"
                continue
            slowest = max(slowest, took)
            failed, summary = self._verdict(prepared, answer, rdtype, took, run)
            per_server[where] = "; ".join(failed) or summary
            problems.extend(f"{where}: {problem}" for problem in failed)
        run.details["servers"] = per_server
        run.details["server"] = ", ".join(per_server)
        run.timings["query"] = slowest
        if problems:
            answered = [a for _, a, _ in asked if not isinstance(a, str)]
            outcome = Outcome.FAIL if answered else Outcome.ERROR
            return run.finish(outcome, "; ".join(problems))
        return run.finish(Outcome.OK, f"all {len(servers)} servers agree: {summary}")

    def _verdict(
        self,
        prepared: PreparedCheck[DnsSpec],
        response: dns.message.Message,
        rdtype: dns.rdatatype.RdataType,
        total: float,
        run: ProbeRun,
    ) -> tuple[list[str], str]:
        """(problems, the passing summary) of one response."""
        spec = prepared.spec
        rcode = dns.rcode.to_text(response.rcode())
        answers: list[str] = []
        ips: list[str] = []
        for rrset in response.answer:
            if rrset.rdtype != rdtype:
                continue
            for rdata in rrset:
                text = _answer_texts(spec.record_type, rdata)
                answers.append(text)
                if spec.record_type in _ADDRESS_TYPES:
                    ips.append(text)
        details = run.details
        details["rcode"] = rcode
        details["answers"] = answers[:_SHOWN_ANSWERS]
        if ips:
            details["ips"] = ips[:_SHOWN_ANSWERS]
        problems = []
        if rcode != spec.expected_rcode:
            problems.append(f"rcode {rcode}, expected {spec.expected_rcode}")
        elif rcode == "NOERROR":
            if not answers and not spec.allow_empty_answer:
                problems.append(f"no {spec.record_type} records for {spec.query_name}")
            elif spec.expected and (problem := _match_problem(spec, answers)):
                problems.append(problem)
        observation = Observation(
            dns_rcode=rcode,
            ips=ips,
            answers=answers,
            response_time_ms=total * 1000,
            connected=True,
        )
        failed = [o.description for o in evaluate_all(prepared.conditions, observation) if not o.ok]
        if failed:
            details["failed_conditions"] = failed
            problems.extend(failed)
        count = len(answers)
        noun = "record" if count == 1 else "records"
        summary = f"{rcode}: {count} {spec.record_type} {noun} in {total * 1000:.0f} ms"
        return problems, summary

    def on_timeout(self, run: ProbeRun) -> str:
        server = run.details.get("server", "the DNS server")
        return f"no DNS answer from {server} within {run.check.timeout:g} s"


def create_executor(resources: SharedResources) -> DnsExecutor:
    """Registry factory: DNS probes need no shared resources."""
    return DnsExecutor()
