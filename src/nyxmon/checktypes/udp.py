"""The ``udp`` check type's parameters: a datagram sent, and a reply (or silence) expected
(the probe: :mod:`nyxmon.probes.udp`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from nyxmon.checktypes.base import CheckType
from nyxmon.checktypes.connection import Host, Port, TextSpecModel
from nyxmon.checktypes.durations import PositiveDuration
from nyxmon.checktypes.tcp import compile_pattern

__all__ = ["UDP", "UdpSpec"]


class UdpSpec(TextSpecModel):
    """Params of a ``udp`` check."""

    host: Host
    port: Port = Field(description="UDP port")
    payload: str = Field("", description="the datagram to send (text, or hex digits)")
    payload_encoding: Literal["text", "hex"] = Field(
        "text", description="how payload is written: text (UTF-8) or hex ('0a1b...')"
    )
    expect_regex: str | None = Field(
        None, description="regular expression the reply must match (any reply if unset)"
    )
    expect_silence: bool = Field(
        False, description="pass when no reply comes within silence_wait (and none is refused)"
    )
    silence_wait: PositiveDuration = Field(
        1.0, description="how long to listen for a reply when silence is expected"
    )
    read_limit: int = Field(
        65_535, ge=1, le=65_535, description="the reply's bytes kept for conditions"
    )

    @field_validator("expect_regex")
    @classmethod
    def _check_regex(cls, value: str | None) -> str | None:
        return compile_pattern(value)

    @model_validator(mode="after")
    def _check_combinations(self) -> UdpSpec:
        if self.expect_silence and self.expect_regex is not None:
            raise ValueError("expect_silence and expect_regex exclude each other")
        if self.payload_encoding == "hex":
            try:
                bytes.fromhex(self.payload)
            except ValueError:
                raise ValueError(f"payload {self.payload!r} is not hex digits") from None
        return self

    def datagram(self) -> bytes:
        if self.payload_encoding == "hex":
            return bytes.fromhex(self.payload)
        return self.payload.encode()


UDP = CheckType(
    name="udp",
    params=UdpSpec,
    observes=frozenset({"RESPONSE_TIME", "BODY", "BODY_SIZE", "IP"}),
    executor="nyxmon.probes.udp:create_executor",
    summary="a UDP datagram: a reply matching a pattern, or silence, expected",
)
