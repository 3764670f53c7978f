"""The ``tcp`` check type's parameters: a TCP connect, optionally over TLS, optionally a
request sent and an answer expected (the probe: :mod:`nyxmon.probes.tcp`)."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from nyxmon.checktypes.base import CheckType
from nyxmon.checktypes.connection import (
    CaFile,
    Host,
    Port,
    ServerName,
    StartTlsProtocol,
    TextSpecModel,
    VerifyTls,
    tls_problem,
)
from nyxmon.checktypes.durations import PositiveDuration

__all__ = ["TCP", "TcpSpec", "compile_pattern"]


def compile_pattern(value: str | None) -> str | None:
    """``value`` if it is a valid regular expression; the reason otherwise, as ValueError."""
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"{value!r} is not a regular expression: {exc}") from None
    return value


class TcpSpec(TextSpecModel):
    """Params of a ``tcp`` check."""

    host: Host
    port: Port = Field(description="TCP port")
    tls: bool = Field(False, description="speak TLS at once (implicit TLS, like port 465/993)")
    starttls: StartTlsProtocol | None = Field(
        None, description="upgrade to TLS with this protocol's command first (smtp, imap, ...)"
    )
    verify_tls: VerifyTls = True
    ca_file: CaFile = None
    server_name: ServerName = None
    send: str | None = Field(
        None, description="text sent after connecting (write \\r\\n in YAML double quotes)"
    )
    expect: str | None = Field(None, description="text the answer (or banner) must contain")
    expect_regex: str | None = Field(
        None, description="regular expression the answer (or banner) must match"
    )
    read_limit: int = Field(
        4096, ge=1, le=1_048_576, description="read at most this many bytes of the answer"
    )
    read_banner: bool = Field(
        False, description="read what the server says first even when nothing is expected"
    )
    max_response_time: PositiveDuration | None = Field(
        None, description="a passing run slower than this is degraded: 500ms, 2s (or seconds)"
    )

    @field_validator("expect_regex")
    @classmethod
    def _check_regex(cls, value: str | None) -> str | None:
        return compile_pattern(value)

    @model_validator(mode="after")
    def _check_combinations(self) -> TcpSpec:
        if self.tls and self.starttls is not None:
            raise ValueError("tls (implicit) and starttls exclude each other")
        uses_tls = self.tls or self.starttls is not None
        if problem := tls_problem(
            uses_tls=uses_tls, verify_tls=self.verify_tls, ca_file=self.ca_file
        ):
            raise ValueError(problem)
        if self.server_name is not None and not uses_tls:
            raise ValueError("server_name has no effect without tls or starttls")
        return self

    def reads(self) -> bool:
        """Whether the probe reads an answer at all."""
        return self.read_banner or self.expect is not None or self.expect_regex is not None


TCP = CheckType(
    name="tcp",
    params=TcpSpec,
    observes=frozenset(
        {"CONNECTED", "RESPONSE_TIME", "BODY", "BODY_SIZE", "IP", "CERTIFICATE_EXPIRATION"}
    ),
    executor="nyxmon.probes.tcp:create_executor",
    summary="a TCP connect (optionally TLS or STARTTLS), an optional request and expected answer",
)
