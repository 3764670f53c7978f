"""The ``grpc`` check type: the standard gRPC health checking protocol
(``grpc.health.v1.Health/Check``) over grpcio's asyncio API. ``SERVING`` passes; any other
status, or ``NOT_FOUND`` for an unknown service, fails; the status is ``[VALUE]``.

Each run opens its own channel and closes it (see :mod:`nyxmon.probes.endpoint`). grpcio is the
optional ``grpc`` extra (``pip install 'nyxmon[grpc]'``), imported when the first grpc check
runs; without it those checks end in an error saying so. The two messages of the protocol are
one optional string field and one enum field, so this module writes and reads their protobuf
bytes itself: grpcio-health-checking's generated classes would load the protobuf runtime,
about 4 MB of the agent's RSS for a few bytes each way.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

import grpc
import grpc.aio

from nyxmon.checktypes.grpc import GrpcSpec
from nyxmon.domain.model import Outcome
from nyxmon.probes.base import ProbeRun
from nyxmon.probes.endpoint import EndpointExecutor, ProbeFailure
from nyxmon.probes.registry import SharedResources

__all__ = ["TYPE_NAME", "GrpcExecutor", "create_executor"]

TYPE_NAME = "grpc"
_CHECK = "/grpc.health.v1.Health/Check"
#: grpc.health.v1.HealthCheckResponse.ServingStatus
_STATUSES = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}
_SERVING = 1


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def encode_request(service: str) -> bytes:
    """A ``HealthCheckRequest``: field 1 (``service``, a string) unless it is empty."""
    if not service:
        return b""
    data = service.encode()
    return b"\x0a" + _varint(len(data)) + data


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def decode_status(data: bytes) -> int:
    """The ``status`` (field 1) of a ``HealthCheckResponse``; fields it does not know are
    skipped, as protobuf readers do. ValueError if ``data`` is not such a message."""
    status = 0  # proto3: an absent field is its zero value, UNKNOWN
    pos = 0
    try:
        while pos < len(data):
            key, pos = _read_varint(data, pos)
            field, wire = key >> 3, key & 7
            if wire == 0:
                value, pos = _read_varint(data, pos)
                if field == 1:
                    status = value
            elif wire == 1:
                pos += 8
            elif wire == 2:
                size, pos = _read_varint(data, pos)
                pos += size
            elif wire == 5:
                pos += 4
            else:
                raise ValueError(f"protobuf wire type {wire}")
    except IndexError:
        raise ValueError("truncated protobuf message") from None
    if pos != len(data):
        raise ValueError("truncated protobuf message")
    return status


def _channel(spec: GrpcSpec) -> grpc.aio.Channel:
    target = f"{spec.host}:{spec.port}"
    # one channel per run: no subchannel sharing with other checks' channels
    options = [("grpc.use_local_subchannel_pool", 1), ("grpc.enable_retries", 0)]
    if not spec.tls:
        return grpc.aio.insecure_channel(target, options=options)
    roots = Path(spec.ca_file).read_bytes() if spec.ca_file else None
    credentials = grpc.ssl_channel_credentials(root_certificates=roots)
    return grpc.aio.secure_channel(target, credentials, options=options)


class GrpcExecutor(EndpointExecutor[GrpcSpec]):
    """Runs ``grpc`` checks: one fresh channel per run."""

    type_name: ClassVar[str] = TYPE_NAME
    spec_model = GrpcSpec
    default_port: ClassVar[int] = 50051

    async def session(self, run: ProbeRun, spec: GrpcSpec) -> Any:
        where = self.where(spec)
        subject = f"service {spec.service!r}" if spec.service else "the server"
        run.details["service"] = spec.service
        try:
            channel = _channel(spec)
        except OSError as exc:
            raise ProbeFailure(f"grpc {where}: ca_file: {exc.strerror}", Outcome.ERROR) from None
        try:
            check = channel.unary_unary(
                _CHECK, request_serializer=encode_request, response_deserializer=decode_status
            )
            sent = time.perf_counter()
            try:
                answer = await check(
                    spec.service,
                    timeout=run.check.timeout + 1,  # the check's own timeout comes first
                )
            except grpc.aio.AioRpcError as exc:
                code, details = exc.code(), exc.details() or ""
                if code is grpc.StatusCode.NOT_FOUND:
                    raise ProbeFailure(f"grpc {where}: {subject} is unknown") from None
                if code is grpc.StatusCode.UNAVAILABLE:
                    reason = "Connection refused" if "refused" in details.lower() else details
                    raise ProbeFailure(f"grpc {where}: {reason}", Outcome.ERROR) from None
                raise ProbeFailure(
                    f"grpc {where}: health check answered {code.name}: {details}"
                ) from None
            run.timings["query"] = time.perf_counter() - sent
        finally:
            await channel.close()
        status = _STATUSES.get(answer, str(answer))
        if answer != _SERVING:
            raise ProbeFailure(f"grpc {where}: {subject} is {status}")
        return status


def create_executor(resources: SharedResources) -> GrpcExecutor:
    """Registry factory: grpc probes share nothing."""
    return GrpcExecutor()
