"""The ``grpc`` check type: the standard gRPC health checking protocol
(``grpc.health.v1.Health/Check``), one unary call over HTTP/2 (:mod:`nyxmon.probes._grpc_call`,
pure-Python ``h2``, imported with this module when the first grpc check runs). ``SERVING``
passes; any other status, or ``NOT_FOUND`` for an unknown service, fails; ``UNAVAILABLE`` is an
error, as a refused connection is; the status is ``[VALUE]``.

Each run opens its own connection and drops it (see :mod:`nyxmon.probes.endpoint`). The two
messages of the protocol are one optional string field and one enum field, so this module
writes and reads their protobuf bytes itself: grpcio-health-checking's generated classes would
load the protobuf runtime, about 4 MB of the agent's RSS for a few bytes each way (and grpcio,
which the probe used before, another 9 MB and its core threads).
"""

from __future__ import annotations

from typing import Any, ClassVar

from nyxmon.checktypes.grpc import GrpcSpec
from nyxmon.domain.model import Outcome
from nyxmon.probes._grpc_call import CallFailure, tls_context, unary_call
from nyxmon.probes.base import ProbeRun
from nyxmon.probes.endpoint import EndpointExecutor, ProbeFailure
from nyxmon.probes.registry import SharedResources

__all__ = ["TYPE_NAME", "GrpcExecutor", "create_executor"]

TYPE_NAME = "grpc"
_CHECK = "/grpc.health.v1.Health/Check"
#: grpc.health.v1.HealthCheckResponse.ServingStatus
_STATUSES = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}
_SERVING = 1
_NOT_FOUND = 5
_UNAVAILABLE = 14


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


class GrpcExecutor(EndpointExecutor[GrpcSpec]):
    """Runs ``grpc`` checks: one fresh connection per run."""

    type_name: ClassVar[str] = TYPE_NAME
    spec_model = GrpcSpec
    default_port: ClassVar[int] = 50051

    async def session(self, run: ProbeRun, spec: GrpcSpec) -> Any:
        where = self.where(spec)
        subject = f"service {spec.service!r}" if spec.service else "the server"
        run.details["service"] = spec.service
        context = None
        if spec.tls:
            try:
                context = tls_context(spec.ca_file)
            except OSError as exc:  # ssl.SSLError too: a file that is not PEM
                reason = exc.strerror or str(exc)
                raise ProbeFailure(f"grpc {where}: ca_file: {reason}", Outcome.ERROR) from None
        try:
            reply = await unary_call(
                run,
                spec.host,
                spec.port,
                _CHECK,
                encode_request(spec.service),
                tls=context,
                deadline=run.check.timeout + 1,  # the check's own timeout comes first
            )
        except CallFailure as exc:
            raise ProbeFailure(f"grpc {where}: {exc.message}", exc.outcome) from None
        if reply.code == _NOT_FOUND:
            raise ProbeFailure(f"grpc {where}: {subject} is unknown")
        if reply.code == _UNAVAILABLE:
            raise ProbeFailure(f"grpc {where}: {reply.details or 'UNAVAILABLE'}", Outcome.ERROR)
        if reply.code != 0:
            raise ProbeFailure(
                f"grpc {where}: health check answered {reply.code_name}: {reply.details}"
            )
        if reply.message is None:
            raise ProbeFailure(f"grpc {where}: health check answered OK without a message")
        try:
            answer = decode_status(reply.message)
        except ValueError as exc:
            raise ProbeFailure(f"grpc {where}: unreadable health check answer: {exc}") from None
        status = _STATUSES.get(answer, str(answer))
        if answer != _SERVING:
            raise ProbeFailure(f"grpc {where}: {subject} is {status}")
        return status


def create_executor(resources: SharedResources) -> GrpcExecutor:
    """Registry factory: grpc probes share nothing."""
    return GrpcExecutor()
