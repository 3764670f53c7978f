"""The grpc probe's hand-written health messages against protobuf's generated classes."""

from __future__ import annotations

import pytest
from grpc_health.v1 import health_pb2
from hypothesis import given
from hypothesis import strategies as st

from nyxmon.probes.grpc import decode_status, encode_request

Response = health_pb2.HealthCheckResponse


@given(st.text(max_size=300))
def test_a_request_is_what_protobuf_writes(service: str) -> None:
    assert (
        encode_request(service)
        == health_pb2.HealthCheckRequest(service=service).SerializeToString()
    )


@pytest.mark.parametrize("status", [0, 1, 2, 3, 300])
def test_a_response_reads_as_protobuf_reads_it(status: int) -> None:
    data = Response(status=status).SerializeToString()  # type: ignore[arg-type]
    assert decode_status(data) == status


def test_unknown_fields_are_skipped() -> None:
    extra = b"\x10\x05" + b"\x1a\x03abc" + b"\x21" + bytes(8) + b"\x2d" + bytes(4)
    assert decode_status(extra + Response(status=Response.SERVING).SerializeToString()) == 1
    assert decode_status(extra) == 0  # no status field: UNKNOWN, as proto3 reads it


@pytest.mark.parametrize("data", [b"\x08", b"\x1a\x05ab", b"\x08\x80", b"\x0f"])
def test_a_broken_message_is_a_value_error(data: bytes) -> None:
    with pytest.raises(ValueError, match="protobuf"):
        decode_status(data)
