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

__all__ = ["DNS", "RECORD_TYPES", "DnsSpec"]

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
        None, description="IP address of the DNS server; default: the system's first resolver"
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
        return None if value is None else _ip(value, "server")

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

    def qname(self) -> dns.name.Name:
        if self.record_type == "PTR" and _is_ip(self.query_name):
            return dns.reversename.from_address(self.query_name.strip())
        return dns.name.from_text(self.query_name)


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
