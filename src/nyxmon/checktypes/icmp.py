"""The ``icmp`` check type's parameters: N echo requests (ping), loss and round-trip times
(the probe: :mod:`nyxmon.probes.icmp`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from nyxmon.checktypes.base import CheckType, SpecModel
from nyxmon.checktypes.connection import Host
from nyxmon.checktypes.durations import PositiveDuration

__all__ = ["ICMP", "IcmpSpec"]


class IcmpSpec(SpecModel):
    """Params of an ``icmp`` check."""

    host: Host
    count: int = Field(3, ge=1, le=100, description="echo requests sent per run")
    packet_interval: PositiveDuration = Field(0.2, description="time between two echo requests")
    reply_wait: PositiveDuration = Field(
        1.0, description="how long replies are awaited after the last request"
    )
    ip_version: Literal["auto", "4", "6"] = Field(
        "auto", description="auto (as the name resolves), 4 or 6"
    )
    payload_size: int = Field(56, ge=0, le=1400, description="payload bytes per request")
    max_packet_loss: float | None = Field(
        None,
        ge=0,
        le=100,
        description="fail when more than this share (percent) is lost; default: only when all",
    )
    max_rtt: PositiveDuration | None = Field(
        None, description="a passing run whose average round trip is slower is degraded"
    )


ICMP = CheckType(
    name="icmp",
    params=IcmpSpec,
    observes=frozenset({"PACKET_LOSS", "RESPONSE_TIME", "CONNECTED", "IP"}),
    executor="nyxmon.probes.icmp:create_executor",
    summary="ping: N echo requests, packet loss and round-trip min/avg/max/mdev, IPv4 and IPv6",
)
