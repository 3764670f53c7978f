"""The executor registry and the params specs it publishes for config validation."""

from __future__ import annotations

import importlib
import pkgutil
import time
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError
from tests.servers.checks import make_check
from tests.servers.http_target import HttpTarget

import nyxmon.probes
from nyxmon.checktypes import CheckType
from nyxmon.checktypes import params_models as check_types
from nyxmon.checktypes.dns import DnsSpec
from nyxmon.checktypes.grpc import GrpcSpec
from nyxmon.checktypes.http import HttpSpec
from nyxmon.checktypes.json import JsonSpec
from nyxmon.domain.model import Check, Outcome, Result
from nyxmon.errors import UnknownCheckTypeError
from nyxmon.probes.base import Executor, ProbeExecutor
from nyxmon.probes.registry import ExecutorRegistry, builtin_registry

pytestmark = pytest.mark.anyio


class _Closable:
    def __init__(self, log: list[str], name: str) -> None:
        self.log = log
        self.name = name

    async def execute(self, check: Check, scheduled_at: float) -> Result:
        return Result(check.id, scheduled_at, time.time(), 0.0, Outcome.OK)

    async def aclose(self) -> None:
        self.log.append(f"closed {self.name}")


def test_check_types_maps_each_built_in_type_to_its_spec() -> None:
    types = dict(check_types())
    assert {"http": HttpSpec, "json": JsonSpec, "dns": DnsSpec, "grpc": GrpcSpec}.items() <= (
        types.items()
    )
    data_types = {"amqp", "mqtt", "mysql", "nats", "postgres", "redis", "websocket"}
    assert data_types <= set(types)


def test_every_probe_module_with_a_type_is_registered() -> None:
    registered = set(builtin_registry().types)
    for module_info in pkgutil.iter_modules(nyxmon.probes.__path__):
        module = importlib.import_module(f"nyxmon.probes.{module_info.name}")
        type_name = getattr(module, "TYPE_NAME", None)
        if type_name is not None:
            assert type_name in registered, f"{module.__name__} is not registered"


@pytest.mark.parametrize("spec", [HttpSpec, JsonSpec, DnsSpec])
def test_specs_forbid_unknown_keys_and_describe_every_field(spec: type[BaseModel]) -> None:
    assert spec.model_config.get("extra") == "forbid"
    undescribed = [name for name, f in spec.model_fields.items() if not f.description]
    assert undescribed == []
    schema = spec.model_json_schema()
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param({}, "url\n  Field required", id="missing-url"),
        pytest.param({"url": "example.test"}, "must start with http:// or https://", id="scheme"),
        pytest.param({"url": "http://"}, "url", id="no-host"),
        pytest.param({"url": "http://x.test", "method": "BREW"}, "method", id="method"),
        pytest.param({"url": "http://x.test", "expected_status": [700]}, "700", id="status"),
        pytest.param(
            {"url": "http://x.test", "expected_status": ["300-200"]}, "runs backwards", id="range"
        ),
        pytest.param(
            {"url": "http://x.test", "expected_status": ["ok"]}, "is not a status", id="word"
        ),
        pytest.param(
            {"url": "http://x.test", "basic_auth": {"username": "a"}, "bearer_token": "t"},
            "basic_auth and bearer_token exclude each other",
            id="two-auths",
        ),
        pytest.param(
            {"url": "http://x.test", "body": "a", "json_body": {"a": 1}},
            "body and json_body exclude each other",
            id="two-bodies",
        ),
        pytest.param(
            {"url": "http://x.test", "verify_tls": False, "ca_file": "/ca.pem"},
            "ca_file has no effect",
            id="ca-without-verify",
        ),
        pytest.param(
            {"url": "http://x.test", "max_response_time": 0}, "a duration above zero", id="mrt"
        ),
        pytest.param(
            {"url": "http://x.test", "max_response_time": "soon"}, "a duration like", id="mrt-text"
        ),
        pytest.param({"url": "http://x.test", "headers": {"a b": "c"}}, "not a header", id="hdr"),
        pytest.param(
            {"url": "http://x.test", "headers": {"x": "a\r\nb"}}, "line break", id="header-crlf"
        ),
        pytest.param({"url": "http://x.test", "timeout": 3}, "Extra inputs", id="extra-key"),
    ],
)
def test_invalid_http_params_are_refused_with_the_field_named(
    params: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        HttpSpec.model_validate(params)


def test_http_spec_round_trips_through_plain_data() -> None:
    spec = HttpSpec.model_validate(
        {"url": "https://x.test/", "method": "post", "expected_status": [200, "2xx", "301-302"]}
    )
    assert spec.method == "POST"
    assert spec.expected_status == [200, "200-299", "301-302"]
    assert spec.status_ranges() == ((200, 200), (200, 299), (301, 302))
    assert HttpSpec.model_validate(spec.model_dump()) == spec


def test_unknown_type_names_the_known_ones() -> None:
    with pytest.raises(UnknownCheckTypeError) as caught:
        builtin_registry().get("gopher")
    names = sorted(builtin_registry().types)
    assert {"dns", "http", "json"} <= set(names)
    known = ", ".join(names)
    assert str(caught.value) == f"unknown check type 'gopher'; known types: {known}"
    assert caught.value.check_type == "gopher"


def test_registering_a_type_twice_is_refused() -> None:
    registry = builtin_registry()
    with pytest.raises(ValueError, match="check type 'http' is already registered"):
        registry.register("http", HttpSpec, lambda resources: _Closable([], "x"))


async def test_executors_are_created_lazily_once_and_closed_together() -> None:
    log: list[str] = []
    registry = ExecutorRegistry()
    for name in ("a", "b", "c"):
        registry.register(name, BaseModel, lambda resources, n=name: _Closable(log, n))
    assert registry.created() == ()
    first = registry.get("a")
    assert registry.get("a") is first
    registry.get("b")
    assert registry.created() == ("a", "b")
    await registry.aclose_all()
    assert log == ["closed a", "closed b"]
    assert registry.created() == ()
    assert registry.get("a") is not first


async def test_a_failing_aclose_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    log: list[str] = []

    class Broken(_Closable):
        async def aclose(self) -> None:
            raise RuntimeError("close failed")

    registry = ExecutorRegistry()
    registry.register("broken", BaseModel, lambda resources: Broken(log, "broken"))
    registry.register("fine", BaseModel, lambda resources: _Closable(log, "fine"))
    registry.get("broken")
    registry.get("fine")
    await registry.aclose_all()
    assert log == ["closed fine"]
    assert "closing the 'broken' executor failed" in caplog.text


async def test_registry_as_context_manager_closes_the_http_session(
    http_target: HttpTarget,
) -> None:
    async with builtin_registry() as registry:
        executor = registry.get("http")
        assert isinstance(executor, Executor)
        result = await executor.execute(make_check("http", {"url": http_target.url()}), 0.0)
        assert result.ok
        assert registry.shared_resources() == ("http",)
    assert registry.shared_resources() == ()


async def test_params_are_parsed_once_per_check_until_they_change() -> None:
    registry = builtin_registry()
    executor = registry.get("http")
    assert isinstance(executor, ProbeExecutor)
    check = make_check("http", {"url": "http://127.0.0.1:1/"}, "[STATUS] == 200")
    first = executor.prepare(check)
    assert executor.prepare(check) is first
    same_values = make_check("http", {"url": "http://127.0.0.1:1/"}, "[STATUS] == 200")
    assert executor.prepare(same_values) is first
    changed = make_check("http", {"url": "http://127.0.0.1:2/"}, "[STATUS] == 200")
    assert executor.prepare(changed) is not first
    new_condition = make_check("http", {"url": "http://127.0.0.1:2/"}, "[STATUS] == 201")
    assert executor.prepare(new_condition).conditions[0].text == "[STATUS] == 201"
    await registry.aclose_all()


async def test_a_type_whose_client_library_is_missing_errors_naming_it() -> None:
    missing = CheckType(
        name="grpc",
        params=GrpcSpec,
        observes=frozenset(),
        executor="grpc_client_not_installed:create_executor",
        summary="as if grpc's client library were not installed",
    )
    registry = builtin_registry({"grpc": missing})
    check = make_check("grpc", {"host": "127.0.0.1"})
    result = await registry.get("grpc").execute(check, time.time())
    assert result.outcome is Outcome.ERROR
    assert result.message == (
        "the grpc check type needs the Python package 'grpc_client_not_installed', which "
        "is not installed; reinstall NyxMon with its dependencies (pip install nyxmon)"
    )
