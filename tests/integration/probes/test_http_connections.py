"""The curl bridge's connections: RST on close, reuse only when asked, nothing left behind.

Fresh connections per probe must not pile up TIME_WAIT sockets on the agent's side, nor resume
TLS sessions (each probe measures a full handshake); keep-alive checks share connections; a run
cut short by its timeout or a cancellation leaves no transfer, socket or easy handle behind.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import anyio
import pycurl
import pytest
from tests.servers.checks import make_check
from tests.servers.http_target import HttpTarget, serve_http_target
from tests.servers.tls import TlsMaterial

from nyxmon.domain.model import Outcome, Result
from nyxmon.probes.http_client import HttpClients
from nyxmon.probes.registry import ExecutorRegistry, builtin_registry
from nyxmon.probes.runner import AsyncCheckRunner

pytestmark = pytest.mark.anyio

TIME_WAIT = "06"
needs_proc = pytest.mark.skipif(
    not Path("/proc/net/tcp").exists(), reason="needs Linux's /proc/net/tcp and /proc/self/fd"
)


def time_waits_at(host: str, port: int) -> set[tuple[str, str]]:
    """The sockets in TIME_WAIT on either end of connections to the IPv4 ``host:port`` on this
    host (local and remote address as /proc shows them): whichever side closes first keeps
    one, and with a local target both sides are here. The address must match as well as the
    port: a socket of another test (another worker of a parallel run) whose ephemeral port
    only shares the number is not ours."""
    address = f"{socket.inet_aton(host)[::-1].hex().upper()}:{port:04X}"
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == TIME_WAIT and address in (fields[1], fields[2]):
            found.add((fields[1], fields[2]))
    return found


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def settle(predicate: object, what: str, seconds: float = 5.0) -> None:
    """Wait (on the loop, so the target can act) until ``predicate()`` holds."""
    assert callable(predicate)
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"still not true after {seconds} s: {what}"
        await anyio.sleep(0.02)


def bridge(registry: ExecutorRegistry) -> HttpClients:
    return registry.resources.get("http", HttpClients)


@needs_proc
async def test_fresh_connection_probes_leave_no_time_wait_behind(http_target: HttpTarget) -> None:
    before = time_waits_at(http_target.host, http_target.port)
    registry = builtin_registry()
    check = make_check("http", {"url": http_target.url("/health")})
    try:
        for _ in range(40):
            result = await registry.get("http").execute(check, 0.0)
            assert result.ok, result.message
    finally:
        await registry.aclose_all()
    assert http_target.state.hits["/health"] == 40, "each probe was its own request"
    assert time_waits_at(http_target.host, http_target.port) - before == set()


@needs_proc
@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_hundreds_of_concurrent_probes_close_with_rst(scheme: str, tls: TlsMaterial) -> None:
    context = tls.server_context() if scheme == "https" else None
    async with serve_http_target(ssl_context=context) as target:
        before = time_waits_at(target.host, target.port)
        params = {"url": target.url("/health")}
        if scheme == "https":
            params["ca_file"] = str(tls.ca_file)
        checks = [make_check("http", params, check_id=f"web.c{i}") for i in range(300)]
        results: list[Result] = []
        await AsyncCheckRunner(limit=50).run_all(checks, results.append)
        assert [r.outcome for r in results] == [Outcome.OK] * 300, results[0].message
        assert target.state.hits["/health"] == 300
        assert time_waits_at(target.host, target.port) - before == set()


async def test_keep_alive_runs_share_one_connection_and_still_see_the_certificate(
    registry: ExecutorRegistry, https_target: HttpTarget, tls: TlsMaterial
) -> None:
    params = {"url": https_target.url("/"), "ca_file": str(tls.ca_file), "keep_alive": True}
    check = make_check("http", params, "[CERTIFICATE_EXPIRATION] > 1d")
    results = [await registry.get("http").execute(check, 0.0) for _ in range(5)]
    assert all(r.ok for r in results), [r.message for r in results]
    assert {"connect", "tls"} <= set(results[0].timings)
    assert "reused_connection" not in results[0].details
    for later in results[1:]:
        assert later.details["reused_connection"] is True
        assert not {"dns", "connect", "tls"} & set(later.timings)
        assert later.details["cert_expires_at"] == results[0].details["cert_expires_at"]


async def test_fresh_https_probes_never_resume_a_tls_session(tls: TlsMaterial) -> None:
    context = tls.server_context()
    async with serve_http_target(ssl_context=context) as target, builtin_registry() as registry:
        # The server's counter does see resumption: two libcurl transfers that may resume.
        curl_loop = bridge(registry).curl_loop()
        curl = pycurl.Curl()
        for _ in range(2):
            curl.setopt(pycurl.URL, target.url("/"))
            curl.setopt(pycurl.CAINFO, str(tls.ca_file))
            curl.setopt(pycurl.FRESH_CONNECT, 1)
            curl.setopt(pycurl.WRITEFUNCTION, lambda chunk: None)
            assert await curl_loop.perform(curl) == (0, "")
        curl.close()
        resumed = context.session_stats()["hits"]
        assert resumed >= 1
        check = make_check("http", {"url": target.url("/"), "ca_file": str(tls.ca_file)})
        for _ in range(4):
            result = await registry.get("http").execute(check, 0.0)
            assert result.ok, result.message
            assert result.timings["tls"] > 0
        assert context.session_stats()["hits"] == resumed


@needs_proc
async def test_timed_out_runs_leave_no_transfer_socket_or_handle_behind(
    http_target: HttpTarget,
) -> None:
    async with builtin_registry() as registry:
        executor = registry.get("http")
        warm = await executor.execute(make_check("http", {"url": http_target.url("/")}), 0.0)
        assert warm.ok  # the loop's multi (and its own descriptors) exist from here on
        fds = open_fds()
        slow = {"url": http_target.url("/slow?delay=30")}
        results: list[Result] = []

        async def run(index: int) -> None:
            check = make_check("http", slow, check_id=f"slow.c{index}", timeout=0.3)
            results.append(await executor.execute(check, 0.0))

        async with anyio.create_task_group() as group:
            for index in range(20):
                group.start_soon(run, index)
        assert {r.outcome for r in results} == {Outcome.TIMEOUT}
        assert http_target.state.max_in_flight == 20
        [curl_loop] = bridge(registry).curl_loops()
        assert curl_loop.transfers() == 0
        assert curl_loop.watched_sockets() == ()
        assert bridge(registry).handles()[0] == 0, "every easy handle went back to the pool"
        await settle(lambda: http_target.state.in_flight == 0, "the target saw the disconnects")
        await settle(lambda: open_fds() <= fds, f"{open_fds()} descriptors open, not {fds}")
        again = await executor.execute(make_check("http", {"url": http_target.url("/")}), 0.0)
        assert again.ok, again.message


async def test_a_cancelled_run_frees_its_handle_and_drops_its_kept_connection(
    registry: ExecutorRegistry, http_target: HttpTarget
) -> None:
    executor = registry.get("http")
    warm = make_check("http", {"url": http_target.url("/"), "keep_alive": True})
    assert (await executor.execute(warm, 0.0)).ok
    slow = make_check("http", {"url": http_target.url("/slow?delay=30"), "keep_alive": True})
    async with anyio.create_task_group() as group:
        group.start_soon(executor.execute, slow, 0.0)
        await settle(lambda: http_target.state.in_flight == 1, "the slow request arrived")
        group.cancel_scope.cancel()
    clients = bridge(registry)
    [curl_loop] = clients.curl_loops()
    assert curl_loop.transfers() == 0
    assert clients.handles()[0] == 0
    await settle(lambda: http_target.state.in_flight == 0, "the target saw the disconnect")
    after = await executor.execute(warm, 0.0)
    assert after.ok, after.message
    assert "connect" in after.timings, "the interrupted connection was not reused"


async def test_closing_the_bridge_ends_a_run_in_flight_with_an_error(
    http_target: HttpTarget,
) -> None:
    registry = builtin_registry()
    check = make_check("http", {"url": http_target.url("/slow?delay=30")}, timeout=10)
    results: list[Result] = []

    async def run() -> None:
        results.append(await registry.get("http").execute(check, 0.0))

    async with anyio.create_task_group() as group:
        group.start_soon(run)
        await settle(lambda: http_target.state.in_flight == 1, "the slow request arrived")
        await registry.aclose_all()
    [result] = results
    assert result.outcome is Outcome.ERROR
    assert result.message == "the HTTP client closed during the request"
    assert registry.shared_resources() == ()
