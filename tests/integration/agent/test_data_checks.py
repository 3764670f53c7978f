"""The running agent probes every database, broker, websocket and grpc type: UP against the
machine's local services (and a grpc health server and WebSocket endpoint started here), DOWN
against a closed port; a json check with a failed degraded rule is DEGRADED."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from tests.integration.agent.conftest import ConfigFile, wait_for
from tests.servers.data_checks import data_check_params
from tests.servers.http_target import HttpTarget
from tests.servers.sockets import closed_port

from nyxmon.agent.agent import Agent
from nyxmon.config import LoadedConfig

TYPES = ["amqp", "grpc", "mqtt", "mysql", "nats", "postgres", "redis", "websocket"]


@pytest.fixture
def grpc_port() -> Iterator[int]:
    server = grpc.server(ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield port
    finally:
        server.stop(None)


def _check(name: str, type_name: str, params: dict[str, object]) -> str:
    return "      - " + json.dumps({"name": name, "type": type_name, **params}) + "\n"


def test_every_type_is_up_against_its_peer_and_down_on_a_closed_port(
    target: HttpTarget,
    grpc_port: int,
    config_file: ConfigFile,
    start_agent: Callable[[LoadedConfig], Agent],
) -> None:
    ws_url = target.url("/ws/echo").replace("http://", "ws://")
    closed = closed_port()
    checks = ""
    for type_name in TYPES:
        params = data_check_params(type_name, ws_url=ws_url, grpc_port=grpc_port)
        checks += _check(f"{type_name} up", type_name, params)
        if type_name == "websocket":
            down = {"url": f"ws://127.0.0.1:{closed}/"}
        else:
            down = {**params, "port": closed}
        checks += _check(f"{type_name} down", type_name, down)
    checks += _check(
        "api",
        "json",
        {"url": target.url("/json"), "degraded_conditions": ["[BODY].uptime_seconds < 60"]},
    )
    agent = start_agent(config_file.write(f"  - name: data\n    checks:\n{checks}"))
    expected = {f"data.{t}-up": "up" for t in TYPES}
    expected |= {f"data.{t}-down": "down" for t in TYPES}
    expected["data.api"] = "degraded"

    def states() -> dict[str, str]:
        return {k: v.state for k, v in agent.control.statuses().items() if k in expected}

    wait_for(lambda: states() == expected, timeout=30, what=f"states {expected}, not {states()}")
    latest = {k: v.result for k, v in agent.store.latest_results().items()}
    for type_name in TYPES:
        assert "Connection refused" in latest[f"data.{type_name}-down"].message, type_name
