"""The batch runner: streaming results, bounded concurrency, errors as results, cleanup."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import anyio
import anyio.from_thread
import pytest
from pydantic import BaseModel
from tests.servers.checks import make_check
from tests.servers.dns_server import DnsTestServer
from tests.servers.http_target import HttpTarget, ThreadedHttpTarget

from nyxmon.domain.model import Check, Outcome, Result
from nyxmon.probes.http_client import CurlLoop, HttpClients
from nyxmon.probes.registry import ExecutorRegistry, builtin_registry
from nyxmon.probes.runner import AsyncCheckRunner, SyncCheckRunner

pytestmark = pytest.mark.anyio


class _NoParams(BaseModel):
    pass


class LifecycleExecutor:
    """A real executor for the runner's bookkeeping: sleeps, raises or hangs on request."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def execute(self, check: Check, scheduled_at: float) -> Result:
        behaviour = check.params.get("behaviour", "ok")
        if behaviour == "raise":
            raise RuntimeError("executor bug")
        if behaviour == "hang":
            await anyio.sleep_forever()
        await anyio.sleep(float(check.params.get("sleep", 0)))
        return Result(check.id, scheduled_at, time.time(), 0.0, Outcome.OK, "fine")

    async def aclose(self) -> None:
        self.log.append("closed")


def lifecycle_registry(log: list[str]) -> Callable[[], ExecutorRegistry]:
    def build() -> ExecutorRegistry:
        registry = builtin_registry()
        registry.register("life", _NoParams, lambda resources: LifecycleExecutor(log))
        log.append("registry")
        return registry

    return build


def life(check_id: str, **params: Any) -> Check:
    return make_check("life", params, check_id=f"life.{check_id}", timeout=0.5)


async def test_results_stream_while_a_slow_check_is_still_in_flight(
    http_target: HttpTarget,
) -> None:
    slow = make_check("http", {"url": http_target.url("/gate")}, check_id="web.slow")
    fast = make_check("http", {"url": http_target.url("/")}, check_id="web.fast")
    received: list[Result] = []

    async def on_result(result: Result) -> None:
        received.append(result)
        if result.check_id == "web.fast":
            assert http_target.state.hits["/gate"] == 1
            assert http_target.state.in_flight == 1
            http_target.state.gate.set()

    delivered = await AsyncCheckRunner().run_all([slow, fast], on_result)
    assert delivered == 2
    assert [r.check_id for r in received] == ["web.fast", "web.slow"]
    assert [r.outcome for r in received] == [Outcome.OK, Outcome.OK]


async def test_concurrency_is_bounded_by_the_limit(http_target: HttpTarget) -> None:
    checks = [
        make_check("http", {"url": http_target.url("/slow?delay=0.1")}, check_id=f"web.c{i}")
        for i in range(6)
    ]
    results: list[Result] = []
    await AsyncCheckRunner(limit=2).run_all(checks, results.append)
    assert len(results) == 6
    assert all(r.ok for r in results)
    assert http_target.state.max_in_flight == 2


async def test_every_check_of_a_big_batch_gets_exactly_one_result() -> None:
    log: list[str] = []
    checks = [life(f"n{i}") for i in range(500)]
    results: list[Result] = []
    count = await AsyncCheckRunner(lifecycle_registry(log), limit=50).run_all(
        iter(checks), results.append
    )
    assert count == 500
    assert sorted(r.check_id for r in results) == sorted(c.id for c in checks)


async def test_unknown_type_yields_an_error_result_and_the_rest_still_run(
    http_target: HttpTarget,
) -> None:
    checks = [
        make_check("gopher", {"url": "gopher://x"}, check_id="old.gopher"),
        make_check("http", {"url": http_target.url("/")}, check_id="web.ok"),
    ]
    results: dict[str, Result] = {}
    await AsyncCheckRunner().run_all(checks, lambda r: results.__setitem__(r.check_id, r))
    assert results["web.ok"].outcome is Outcome.OK
    error = results["old.gopher"]
    assert error.outcome is Outcome.ERROR
    assert error.message.startswith(
        "check 'old.gopher': unknown check type 'gopher'; known types: dns, "
    )


async def test_a_raising_or_hanging_executor_becomes_a_result() -> None:
    log: list[str] = []
    results: dict[str, Result] = {}
    await AsyncCheckRunner(lifecycle_registry(log)).run_all(
        [life("bug", behaviour="raise"), life("stuck", behaviour="hang"), life("fine")],
        lambda r: results.__setitem__(r.check_id, r),
    )
    assert results["life.bug"].outcome is Outcome.ERROR
    assert "RuntimeError('executor bug')" in results["life.bug"].message
    assert results["life.stuck"].outcome is Outcome.TIMEOUT
    assert results["life.stuck"].message == "the life executor ignored the 0.5 s timeout"
    assert results["life.fine"].outcome is Outcome.OK


async def test_executors_are_closed_when_the_batch_ends() -> None:
    log: list[str] = []
    await AsyncCheckRunner(lifecycle_registry(log)).run_all([life("a")], lambda r: None)
    assert log == ["registry", "closed"]


async def test_executors_are_closed_and_the_error_raised_when_the_callback_fails() -> None:
    log: list[str] = []

    def explode(result: Result) -> None:
        raise ValueError(f"cannot store {result.check_id}")

    runner = AsyncCheckRunner(lifecycle_registry(log))
    with pytest.raises(ValueError, match=r"cannot store life\.a"):
        await runner.run_all([life("a"), life("b", sleep=30)], explode)
    assert log == ["registry", "closed"]


async def test_executors_are_closed_when_the_batch_is_cancelled() -> None:
    log: list[str] = []
    runner = AsyncCheckRunner(lifecycle_registry(log))
    with anyio.move_on_after(0.2) as scope:
        await runner.run_all([life("slow", sleep=30)], lambda r: None)
    assert scope.cancelled_caught
    assert log == ["registry", "closed"]


async def test_a_dns_only_batch_never_opens_an_http_session(dns_server: DnsTestServer) -> None:
    registries: list[ExecutorRegistry] = []

    def build() -> ExecutorRegistry:
        registries.append(builtin_registry())
        return registries[-1]

    seen: list[tuple[str, ...]] = []
    check = make_check(
        "dns", {"query_name": "example.test", "port": dns_server.port, "server": "127.0.0.1"}
    )
    await AsyncCheckRunner(build).run_all(
        [check], lambda r: seen.append(registries[0].shared_resources() + registries[0].created())
    )
    assert seen == [("dns",)]


async def test_http_batch_closes_its_curl_bridge_at_the_end(http_target: HttpTarget) -> None:
    registries: list[ExecutorRegistry] = []

    def build() -> ExecutorRegistry:
        registries.append(builtin_registry())
        return registries[-1]

    clients: list[HttpClients] = []
    loops: list[CurlLoop] = []

    def on_result(result: Result) -> None:
        assert registries[0].shared_resources() == ("http",)
        clients.append(registries[0].resources.get("http", HttpClients))
        loops.extend(clients[0].curl_loops())

    check = make_check("http", {"url": http_target.url("/")})
    await AsyncCheckRunner(build).run_all([check], on_result)
    assert len(loops) == 1
    assert loops[0].closed
    assert loops[0].watched_sockets() == ()
    assert clients[0].closed
    assert clients[0].handles() == (0, 0)
    assert registries[0].shared_resources() == ()


async def test_sync_and_async_callbacks_are_never_called_concurrently() -> None:
    log: list[str] = []
    active = 0
    overlap = False

    async def slow_callback(result: Result) -> None:
        nonlocal active, overlap
        active += 1
        overlap = overlap or active > 1
        await anyio.sleep(0.01)
        active -= 1

    await AsyncCheckRunner(lifecycle_registry(log)).run_all(
        [life(str(i)) for i in range(10)], slow_callback
    )
    assert not overlap


def test_sync_runner_blocks_and_calls_back_from_a_worker_thread(
    dns_server: DnsTestServer,
) -> None:
    check = make_check(
        "dns", {"query_name": "example.test", "server": "127.0.0.1", "port": dns_server.port}
    )
    calls: list[tuple[str, int]] = []
    with anyio.from_thread.start_blocking_portal() as portal:
        portal_thread = portal.call(threading.get_ident)
        count = SyncCheckRunner(portal).run_all(
            [check, check], lambda r: calls.append((r.outcome.value, threading.get_ident()))
        )
    assert count == 2
    assert [outcome for outcome, _ in calls] == ["ok", "ok"]
    assert all(thread not in (portal_thread, threading.get_ident()) for _, thread in calls)


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="limit must be at least 1, not 0"):
        AsyncCheckRunner(limit=0)


def test_sync_runner_against_a_target_in_its_own_thread() -> None:
    with ThreadedHttpTarget() as target, anyio.from_thread.start_blocking_portal() as portal:
        check = make_check("http", {"url": target.url("/switch")}, check_id="web.switch")
        runner = SyncCheckRunner(portal)
        outcomes: list[Outcome] = []
        runner.run_all([check], lambda r: outcomes.append(r.outcome))
        target.state.healthy = False
        runner.run_all([check], lambda r: outcomes.append(r.outcome))
    assert outcomes == [Outcome.OK, Outcome.FAIL]
