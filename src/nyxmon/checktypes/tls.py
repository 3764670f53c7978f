"""The ``tls`` check type's parameters: a TLS handshake and the certificate it shows (the probe:
:mod:`nyxmon.probes.tls`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from nyxmon.checktypes.base import CheckType, SpecModel
from nyxmon.checktypes.connection import (
    CaFile,
    Host,
    Port,
    ServerName,
    StartTlsProtocol,
    VerifyTls,
    tls_problem,
)

__all__ = ["TLS", "TlsSpec"]


class TlsSpec(SpecModel):
    """Params of a ``tls`` check."""

    host: Host
    port: Port = Field(443, description="TCP port")
    server_name: ServerName = None
    starttls: StartTlsProtocol | None = Field(
        None, description="upgrade to TLS with this protocol's command first (smtp, imap, ...)"
    )
    verify_tls: VerifyTls = True
    ca_file: CaFile = None
    warn_days: int | None = Field(
        None,
        ge=0,
        le=3650,
        description="degraded (not down) when the certificate expires within this many days",
    )
    min_version: Literal["TLSv1.2", "TLSv1.3"] | None = Field(
        None, description="fail when the server negotiates an older protocol version"
    )

    @model_validator(mode="after")
    def _check_combinations(self) -> TlsSpec:
        if problem := tls_problem(uses_tls=True, verify_tls=self.verify_tls, ca_file=self.ca_file):
            raise ValueError(problem)
        return self


TLS = CheckType(
    name="tls",
    params=TlsSpec,
    observes=frozenset({"CONNECTED", "RESPONSE_TIME", "CERTIFICATE_EXPIRATION", "IP"}),
    executor="nyxmon.probes.tls:create_executor",
    summary="a TLS handshake: certificate chain, host name, days to expiry, version and cipher",
)
