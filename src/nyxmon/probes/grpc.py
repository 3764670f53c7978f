"""The ``grpc`` check type: the standard gRPC health checking protocol
(``grpc.health.v1.Health/Check``) over grpcio's asyncio API. ``SERVING`` passes; any other
status, or ``NOT_FOUND`` for an unknown service, fails; the status is ``[VALUE]``.

Each run opens its own channel and closes it (see :mod:`nyxmon.probes.endpoint`). grpcio is the
optional ``grpc`` extra (``pip install 'nyxmon[grpc]'``), imported when the first grpc check
runs; without it those checks end in an error saying so.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

import grpc
import grpc.aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from nyxmon.checktypes.grpc import GrpcSpec
from nyxmon.domain.model import Outcome
from nyxmon.probes.base import ProbeRun
from nyxmon.probes.endpoint import EndpointExecutor, ProbeFailure
from nyxmon.probes.registry import SharedResources

__all__ = ["TYPE_NAME", "GrpcExecutor", "create_executor"]

TYPE_NAME = "grpc"
_SERVING = health_pb2.HealthCheckResponse.SERVING


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
            stub = health_pb2_grpc.HealthStub(channel)
            sent = time.perf_counter()
            try:
                answer = await stub.Check(
                    health_pb2.HealthCheckRequest(service=spec.service),
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
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
        if answer.status != _SERVING:
            raise ProbeFailure(f"grpc {where}: {subject} is {status}")
        return status


def create_executor(resources: SharedResources) -> GrpcExecutor:
    """Registry factory: grpc probes share nothing."""
    return GrpcExecutor()
