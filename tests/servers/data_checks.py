"""A check of each database, broker, websocket and grpc type that passes against the machine's
local services (PostgreSQL, MariaDB, Redis, RabbitMQ, Mosquitto, NATS) or a given test peer."""

from __future__ import annotations

from typing import Any

__all__ = ["LOCAL_SERVICE_PARAMS", "data_check_params"]

#: Params of a passing check of each type whose peer is a local service of the machine.
LOCAL_SERVICE_PARAMS: dict[str, dict[str, Any]] = {
    "amqp": {"host": "127.0.0.1", "username": "guest", "password": "guest"},
    "mqtt": {"host": "127.0.0.1", "topic": "nyxmon/test/roundtrip"},
    "mysql": {"host": "127.0.0.1", "database": "test", "query": "SELECT 1"},
    "nats": {"host": "127.0.0.1"},
    "postgres": {"host": "127.0.0.1", "database": "test", "query": "SELECT 1"},
    "redis": {"host": "127.0.0.1", "command": "PING"},
}


def data_check_params(type_name: str, *, ws_url: str = "", grpc_port: int = 0) -> dict[str, Any]:
    """Params of a passing check of ``type_name``; websocket and grpc need their test peer."""
    if type_name == "websocket":
        return {"url": ws_url, "send": "ping", "expect": "echo"}
    if type_name == "grpc":
        return {"host": "127.0.0.1", "port": grpc_port}
    return dict(LOCAL_SERVICE_PARAMS[type_name])
