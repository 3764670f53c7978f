"""The agent's control channel on the wire: frames, and the values they carry.

A frame is one JSON object on one line (``\\n``-terminated, UTF-8), so either side can read it
with ``StreamReader.readline`` and a size limit. Values are encoded explicitly, field by field,
rather than with a generic serializer: what crosses a process boundary is a contract, and a
field added to a dataclass should not silently change it. Statuses and pings, the values sent
most often, travel as positional lists (a third less to encode and decode than objects).

Errors cross as ``{"type": ..., "message": ...}`` and come back as the same NyxMon exception
where there is one (a refused command stays a ``ConflictError`` on the web side, so the API
answers 409 either way).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from nyxmon.domain.model import Check, CheckSource, Outcome, Result, Service
from nyxmon.domain.push import Ping, PingKind
from nyxmon.domain.status import CheckStatus
from nyxmon.errors import (
    CheckNotFoundError,
    ConfigError,
    ConflictError,
    NyxmonError,
    PingHeldElsewhereError,
    PingKeyNotFoundError,
    ServiceNotFoundError,
    StoreError,
)
from nyxmon.service_layer.messages import (
    AddCheck,
    Command,
    RemoveCheck,
    RemoveService,
    SaveService,
    SetPaused,
)

__all__ = [
    "MAX_FRAME",
    "ProtocolError",
    "RemoteError",
    "answer_frame",
    "check_from_wire",
    "check_to_wire",
    "command_from_wire",
    "command_to_wire",
    "decode_frame",
    "encode_frame",
    "error_from_wire",
    "error_to_wire",
    "ping_from_wire",
    "ping_to_wire",
    "result_from_wire",
    "result_to_wire",
    "status_from_wire",
    "status_to_wire",
]

#: The longest frame either side accepts (a metrics snapshot of thousands of checks fits).
MAX_FRAME = 64 * 1024 * 1024


class ProtocolError(NyxmonError):
    """A frame is not what the control protocol allows (bad JSON, unknown op or type)."""


class RemoteError(NyxmonError):
    """The agent failed a request with an error that has no NyxMon type on this side."""


# One encoder for every frame: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
_encode = _ENCODER.encode


def encode_frame(frame: Mapping[str, Any]) -> bytes:
    return _encode(frame).encode() + b"\n"


def answer_frame(request_id: Any, value: Any) -> bytes:
    """``{"id": request_id, "value": value}``; the answer to a ping (an int id and the check's
    id) is formatted without building the object first."""
    if type(request_id) is int and type(value) is str:
        return b'{"id":%d,"value":%s}\n' % (request_id, _encode(value).encode())
    return encode_frame({"id": request_id, "value": value})


def decode_frame(line: bytes) -> dict[str, Any]:
    try:
        frame = json.loads(line)
    except ValueError as exc:
        raise ProtocolError(f"a control frame is not JSON: {exc}") from None
    if not isinstance(frame, dict):
        raise ProtocolError("a control frame must be a JSON object")
    return frame


# -- checks and services ---------------------------------------------------------------------------
def _frozen(data: Any) -> Mapping[str, Any]:
    return MappingProxyType(dict(data or {}))


def check_to_wire(check: Check) -> dict[str, Any]:
    return {
        "id": check.id,
        "service": check.service,
        "name": check.name,
        "type": check.type,
        "interval": check.interval,
        "timeout": check.timeout,
        "params": dict(check.params),
        "conditions": list(check.conditions),
        "enabled": check.enabled,
        "paused": check.paused,
        "labels": dict(check.labels),
        "source": check.source.value,
        "alert": dict(check.alert),
    }


def check_from_wire(data: Mapping[str, Any]) -> Check:
    try:
        return Check(
            id=str(data["id"]),
            service=str(data["service"]),
            name=str(data["name"]),
            type=str(data["type"]),
            interval=float(data["interval"]),
            timeout=float(data["timeout"]),
            params=_frozen(data.get("params")),
            conditions=tuple(str(c) for c in data.get("conditions", ())),
            enabled=bool(data.get("enabled", True)),
            paused=bool(data.get("paused", False)),
            labels=_frozen(data.get("labels")),
            source=CheckSource(data.get("source", CheckSource.API.value)),
            alert=_frozen(data.get("alert")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError(f"a check on the wire is malformed: {exc!r}") from None


def _service_to_wire(service: Service) -> dict[str, Any]:
    return {
        "name": service.name,
        "group": service.group,
        "labels": dict(service.labels),
        "description": service.description,
    }


def _service_from_wire(data: Mapping[str, Any]) -> Service:
    return Service(
        name=str(data["name"]),
        group=str(data.get("group", "")),
        labels=_frozen(data.get("labels")),
        description=str(data.get("description", "")),
    )


# -- commands --------------------------------------------------------------------------------------
def command_to_wire(command: Command) -> dict[str, Any]:
    """The commands another process may send: the catalog changes of the web plane."""
    if isinstance(command, AddCheck):
        return {"type": "AddCheck", "check": check_to_wire(command.check)}
    if isinstance(command, RemoveCheck):
        return {"type": "RemoveCheck", "check_id": command.check_id}
    if isinstance(command, SetPaused):
        return {"type": "SetPaused", "check_id": command.check_id, "paused": command.paused}
    if isinstance(command, SaveService):
        return {
            "type": "SaveService",
            "service": _service_to_wire(command.service),
            "create": command.create,
        }
    if isinstance(command, RemoveService):
        return {"type": "RemoveService", "name": command.name}
    raise ProtocolError(f"{type(command).__name__} cannot be sent to the agent")


def command_from_wire(data: Mapping[str, Any]) -> Command:
    kind = data.get("type")
    try:
        if kind == "AddCheck":
            return AddCheck(check_from_wire(data["check"]))
        if kind == "RemoveCheck":
            return RemoveCheck(str(data["check_id"]))
        if kind == "SetPaused":
            return SetPaused(str(data["check_id"]), bool(data["paused"]))
        if kind == "SaveService":
            return SaveService(_service_from_wire(data["service"]), bool(data["create"]))
        if kind == "RemoveService":
            return RemoveService(str(data["name"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError(f"a {kind} command on the wire is malformed: {exc!r}") from None
    raise ProtocolError(f"unknown command type {kind!r}")


# -- statuses and results --------------------------------------------------------------------------
def status_to_wire(status: CheckStatus) -> list[Any]:
    return [
        status.check_id,
        None if status.last_outcome is None else status.last_outcome.value,
        status.last_degraded,
        status.last_result_at,
        status.last_duration,
        status.last_message,
        status.consecutive_ok,
        status.consecutive_failures,
        status.results_seen,
        status.alert_state,
        status.alert_since,
    ]


def status_from_wire(data: list[Any]) -> CheckStatus:
    try:
        (check_id, outcome, degraded, at, duration, message, ok, failures, seen, state, since) = (
            data
        )
        return CheckStatus(
            str(check_id),
            None if outcome is None else Outcome(outcome),
            bool(degraded),
            None if at is None else float(at),
            None if duration is None else float(duration),
            str(message),
            int(ok),
            int(failures),
            int(seen),
            None if state is None else str(state),
            None if since is None else float(since),
        )
    except (TypeError, ValueError) as exc:
        raise ProtocolError(f"a status on the wire is malformed: {exc!r}") from None


def _plain(value: Any) -> Any:
    """JSON-safe: mappings and sequences copied, non-finite floats as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def result_to_wire(result: Result) -> dict[str, Any]:
    return {
        "check_id": result.check_id,
        "scheduled_at": result.scheduled_at,
        "started_at": result.started_at,
        "duration": result.duration,
        "outcome": result.outcome.value,
        "message": result.message,
        "timings": dict(result.timings),
        "details": _plain(result.details),
        "degraded": result.degraded,
    }


def result_from_wire(data: Mapping[str, Any]) -> Result:
    try:
        return Result(
            check_id=str(data["check_id"]),
            scheduled_at=float(data["scheduled_at"]),
            started_at=float(data["started_at"]),
            duration=float(data["duration"]),
            outcome=Outcome(data["outcome"]),
            message=str(data.get("message", "")),
            timings=_frozen(data.get("timings")),
            details=_frozen(data.get("details")),
            degraded=bool(data.get("degraded", False)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError(f"a result on the wire is malformed: {exc!r}") from None


# -- pings ---------------------------------------------------------------------------------------
def ping_to_wire(ping: Ping) -> list[Any]:
    """``[key, kind, at, ip, ua, method, exit_status, rid, body]`` (the body in base64: a
    job's output is any bytes)."""
    return [
        ping.key,
        ping.kind.value,
        ping.at,
        ping.remote_addr,
        ping.user_agent,
        ping.method,
        ping.exit_status,
        ping.rid,
        base64.b64encode(ping.body).decode("ascii") if ping.body else "",
    ]


def ping_from_wire(data: Any) -> Ping:
    try:
        key, kind, at, ip, ua, method, exit_status, rid, body = data
        return Ping(
            key=str(key),
            kind=PingKind(kind),
            at=float(at),
            exit_status=None if exit_status is None else int(exit_status),
            body=base64.b64decode(body, validate=True) if body else b"",
            rid=None if rid is None else str(rid),
            remote_addr=str(ip),
            user_agent=str(ua),
            method=str(method),
        )
    except (TypeError, ValueError, binascii.Error) as exc:
        raise ProtocolError(f"a ping on the wire is malformed: {exc!r}") from None


# -- errors ----------------------------------------------------------------------------------------
_ERRORS: Mapping[str, type[Exception]] = {
    "ConflictError": ConflictError,
    "ConfigError": ConfigError,
    "StoreError": StoreError,
    "TimeoutError": TimeoutError,
}


def error_to_wire(error: BaseException) -> dict[str, Any]:
    data: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    if isinstance(error, CheckNotFoundError):
        data["check_id"] = error.check_id
    elif isinstance(error, ServiceNotFoundError):
        data["name"] = error.name
    return data


def error_from_wire(data: Mapping[str, Any]) -> Exception:
    """The exception the agent raised, as the same type where NyxMon has one."""
    kind = str(data.get("type", ""))
    message = str(data.get("message", ""))
    if kind == "CheckNotFoundError" and "check_id" in data:
        return CheckNotFoundError(str(data["check_id"]))
    if kind == "ServiceNotFoundError" and "name" in data:
        return ServiceNotFoundError(str(data["name"]))
    if kind == "PingKeyNotFoundError":
        return PingKeyNotFoundError()
    if kind == "PingHeldElsewhereError":
        return PingHeldElsewhereError()
    if kind == "ConfigValidationError":
        return ConfigError(message)
    error_type = _ERRORS.get(kind)
    if error_type is not None:
        return error_type(message)
    return RemoteError(f"the agent failed the request: {kind}: {message}")
