"""The ``dns`` check type's parameters: one query to a chosen (or the system's) DNS server
(the probe: :mod:`nyxmon.probes.dns`)."""

from __future__ import annotations

import ipaddress
import typing
from typing import Any, Literal

import dns.exception
import dns.name
import dns.rcode
import dns.reversename
from pydantic import Field, field_validator, model_validator

from nyxmon.checktypes.base import CheckType, SpecModel
from nyxmon.checktypes.booleans import Boolean

__all__ = ["DNS", "RECORD_TYPES", "DnsSpec", "split_server"]

RecordType = Literal["A", "AAAA", "CNAME", "MX", "TXT", "NS", "SOA", "SRV", "CAA", "PTR"]
RECORD_TYPES: tuple[str, ...] = typing.get_args(RecordType)
_ADDRESS_TYPES = ("A", "AAAA")


def _ip(value: str, what: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ValueError(f"{what} {value!r} is not an IP address") from None


class DnsSpec(SpecModel):
    """Params of a ``dns`` check."""

    query_name: str = Field(
        min_length=1, description="name to query; for PTR an IP address works too"
    )
    record_type: RecordType = Field("A", description="record type to ask for")
    server: str | None = Field(
        None,
        description="the DNS server: an IP address or a host name (resolved by the system), "
        "optionally with :port; default: the system's first resolver",
    )
    servers: list[str] = Field(
        default_factory=list,
        description="several DNS servers (IP addresses or host names, optionally with :port), "
        "instead of server",
    )
    servers_mode: Literal["failover", "all"] = Field(
        "failover",
        description="failover: ask in order until one answers, that answer decides; "
        "all: ask every server at once, each must pass",
    )
    port: int = Field(53, ge=1, le=65_535, description="DNS server port")
    protocol: Literal["udp", "tcp"] = Field("udp", description="transport; udp retries over tcp")
    source_address: str | None = Field(None, description="local IP address to send from")
    expected: list[str] = Field(default_factory=list, description="values the answers must match")
    match: Literal["any_of", "all_of", "exactly"] = Field(
        "any_of", description="how answers must match expected"
    )
    expected_rcode: str = Field("NOERROR", description="response code that counts as success")
    allow_empty_answer: Boolean = Field(
        False, description="with NOERROR, accept an empty answer (NODATA) instead of failing"
    )

    @field_validator("record_type", "protocol", "match", mode="before")
    @classmethod
    def _normalize_case(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return (
            value.lower()
            if value.lower() in ("udp", "tcp", "any_of", "all_of", "exactly")
            else (value.upper())
        )

    @field_validator("server")
    @classmethod
    def _check_server(cls, value: str | None) -> str | None:
        return None if value is None else _server(value)

    @field_validator("servers")
    @classmethod
    def _check_servers(cls, value: list[str]) -> list[str]:
        return [_server(item) for item in value]

    @field_validator("source_address")
    @classmethod
    def _check_source(cls, value: str | None) -> str | None:
        return None if value is None else _ip(value, "source_address")

    @field_validator("expected_rcode")
    @classmethod
    def _check_rcode(cls, value: str) -> str:
        try:
            return dns.rcode.to_text(dns.rcode.from_text(value.strip().upper()))
        except dns.rcode.UnknownRcode:
            raise ValueError(f"{value!r} is not a DNS rcode such as NOERROR or NXDOMAIN") from None

    @model_validator(mode="after")
    def _check_names(self) -> DnsSpec:
        if self.server is not None and self.servers:
            raise ValueError("server and servers exclude each other: list every server in servers")
        if self.record_type == "PTR" and _is_ip(self.query_name):
            return self
        try:
            dns.name.from_text(self.query_name)
        except dns.exception.DNSException as exc:
            raise ValueError(f"query_name {self.query_name!r} is not a DNS name: {exc}") from None
        if self.record_type in _ADDRESS_TYPES:
            for value in self.expected:
                _ip(value, "expected value")
        return self

    def server_list(self) -> list[str]:
        """The servers to ask, in order (empty: the system's)."""
        return list(self.servers) or ([self.server] if self.server is not None else [])

    def qname(self) -> dns.name.Name:
        if self.record_type == "PTR" and _is_ip(self.query_name):
            return dns.reversename.from_address(self.query_name.strip())
        return dns.name.from_text(self.query_name)


def _server(value: str) -> str:
    """An IP address (normalized) or a host name to resolve when the check runs, each with an
    optional port: ``192.0.2.1``, ``[2001:db8::1]:5353``, ``ns1.example.net:53``."""
    host, port = split_server(value.strip())
    if port is not None and not 1 <= port <= 65_535:
        raise ValueError(f"server {value!r}: port {port} is not between 1 and 65535")
    if _is_ip(host):
        host = str(ipaddress.ip_address(host))
    elif not host or any(c in host for c in " /:@[]") or not _valid_name(host):
        raise ValueError(f"server {value!r} is not an IP address or a host name")
    else:
        host = host.rstrip(".").lower()
    if port is None:
        return host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def split_server(text: str) -> tuple[str, int | None]:
    """``(host, port or None)`` of a server entry; ValueError for a port that is no number."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if not rest:
            return host, None
        if not rest.startswith(":") or not rest[1:].isdigit():
            raise ValueError(f"server {text!r} is not [IPv6]:port")
        return host, int(rest[1:])
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        if not port.isdigit():
            raise ValueError(f"server {text!r}: port {port!r} is not a number")
        return host, int(port)
    return text, None


def _valid_name(text: str) -> bool:
    try:
        dns.name.from_text(text)
    except dns.exception.DNSException:
        return False
    return True


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip())
    except ValueError:
        return False
    return True


DNS = CheckType(
    name="dns",
    params=DnsSpec,
    observes=frozenset({"DNS_RCODE", "IP", "IPS", "ANSWERS", "RESPONSE_TIME", "CONNECTED"}),
    executor="nyxmon.probes.dns:create_executor",
    summary="a DNS query: response code and answers, from any server",
)
