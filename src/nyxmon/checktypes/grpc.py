"""The ``grpc`` check type's parameters: ask a server's standard health service whether it is
serving (the probe: :mod:`nyxmon.probes.grpc`, over pure-Python HTTP/2)."""

from __future__ import annotations

from pydantic import Field, model_validator

from nyxmon.checktypes.base import CheckType
from nyxmon.checktypes.endpoint import EndpointSpec, SlowAfter, port_field, slow_field

__all__ = ["GRPC", "GrpcSpec"]


class GrpcSpec(EndpointSpec):
    """Params of a ``grpc`` check."""

    port: int = port_field(50051)
    service: str = Field(
        "", description="service name to ask about (default: the server as a whole)"
    )
    tls: bool = Field(False, description="connect over TLS")
    ca_file: str | None = Field(
        None, description="PEM file of CAs to trust instead of the system's (with tls)"
    )
    max_response_time: SlowAfter = slow_field()

    @model_validator(mode="after")
    def _check_tls(self) -> GrpcSpec:
        if self.ca_file is not None and not self.tls:
            raise ValueError("ca_file needs tls: true")
        return self


GRPC = CheckType(
    name="grpc",
    params=GrpcSpec,
    observes=frozenset({"CONNECTED", "RESPONSE_TIME", "VALUE"}),
    executor="nyxmon.probes.grpc:create_executor",
    summary="gRPC health checking protocol: SERVING or not ([VALUE] is the status)",
)
