"""The ``dns`` check type: one query to a chosen (or the system's) DNS server.

A run passes when the response code is the expected one (NOERROR by default), the answers match
the expected values in the chosen mode and every condition holds. ``any_of`` needs one expected
value among the answers, ``all_of`` every one, ``exactly`` the same set. Values compare
loosely where DNS is loose: names without case or trailing dot, IPv6 in any spelling, and an MX,
SRV, SOA or CAA answer also matches by its target alone (``mail.example.com`` matches
``10 mail.example.com.``). UDP queries retry over TCP when the answer is truncated.
"""

from __future__ import annotations

import ipaddress
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

from nyxmon.checktypes.dns import DnsSpec
from nyxmon.domain.conditions import Observation, evaluate_all
from nyxmon.domain.model import Outcome, Result
from nyxmon.probes.base import (
    PreparedCheck,
    ProbeExecutor,
    ProbeRun,
    os_error_reason,
)
from nyxmon.probes.registry import SharedResources

__all__ = ["TYPE_NAME", "DnsExecutor", "create_executor"]

_ADDRESS_TYPES = ("A", "AAAA")
_TARGET_TYPES = ("MX", "SRV", "CAA")
_SHOWN_ANSWERS = 20

TYPE_NAME = "dns"


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

    def _server(self, spec: DnsSpec) -> str:
        if spec.server is not None:
            return spec.server
        if self._system_server is None:
            nameservers = dns.resolver.Resolver().nameservers
            if not nameservers:
                raise _NoServer("/etc/resolv.conf lists no nameserver")
            self._system_server = str(nameservers[0])
        return self._system_server

    async def probe(self, run: ProbeRun, prepared: PreparedCheck[DnsSpec]) -> Result:
        spec = prepared.spec
        try:
            server = self._server(spec)
        except (dns.exception.DNSException, _NoServer) as exc:
            return run.finish(Outcome.ERROR, f"no DNS server given and none configured: {exc}")
        run.details["server"] = f"{server}:{spec.port}"
        run.details["protocol"] = spec.protocol
        rdtype = dns.rdatatype.from_text(spec.record_type)
        query = dns.message.make_query(spec.qname(), rdtype)
        sent = time.perf_counter()
        try:
            if spec.protocol == "tcp":
                response = await dns.asyncquery.tcp(
                    query, server, port=spec.port, source=spec.source_address
                )
            else:
                response, used_tcp = await dns.asyncquery.udp_with_fallback(
                    query, server, port=spec.port, source=spec.source_address
                )
                if used_tcp:
                    run.details["tcp_fallback"] = True
        except OSError as exc:
            return run.finish(
                Outcome.ERROR,
                f"DNS server {server}:{spec.port} unreachable: {os_error_reason(exc)}",
            )
        except dns.exception.DNSException as exc:
            return run.finish(Outcome.ERROR, f"bad answer from {server}:{spec.port}: {exc}")
        end = time.perf_counter()
        run.timings["query"] = end - sent
        run.timings["total"] = end - run.start
        return self._judge(run, prepared, response, rdtype, end - run.start)

    def _judge(
        self,
        run: ProbeRun,
        prepared: PreparedCheck[DnsSpec],
        response: dns.message.Message,
        rdtype: dns.rdatatype.RdataType,
        total: float,
    ) -> Result:
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
        if problems:
            return run.finish(Outcome.FAIL, "; ".join(problems))
        count = len(answers)
        noun = "record" if count == 1 else "records"
        return run.finish(
            Outcome.OK, f"{rcode}: {count} {spec.record_type} {noun} in {total * 1000:.0f} ms"
        )

    def on_timeout(self, run: ProbeRun) -> str:
        server = run.details.get("server", "the DNS server")
        return f"no DNS answer from {server} within {run.check.timeout:g} s"


def create_executor(resources: SharedResources) -> DnsExecutor:
    """Registry factory: DNS probes need no shared resources."""
    return DnsExecutor()
