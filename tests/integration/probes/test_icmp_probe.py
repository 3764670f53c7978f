"""The icmp probe: on loopback here, and across a veth pair between two network namespaces made
by the test, against the kernel's own echo replies and against a user-space responder that
loses every 4th request and delays the others by 40 ms (this kernel has no sch_netem: see
tests/servers/icmp_responder.py), so loss and round trips are checked against what was injected.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from tests.servers.checks import make_check
from tests.servers.netns import NetnsPair, netns_available

from nyxmon.checktypes.icmp import IcmpSpec
from nyxmon.domain.model import Outcome
from nyxmon.probes.registry import ExecutorRegistry

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[3]
needs_netns = pytest.mark.skipif(not netns_available(), reason="needs root for ip netns")


def datagram_allowed() -> bool:
    try:
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP).close()
    except OSError:
        return False
    return True


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
async def test_loopback_answers_every_ping_and_the_socket_kind_is_said(
    registry: ExecutorRegistry, host: str
) -> None:
    check = make_check(
        "icmp",
        {"host": host, "count": 3, "packet_interval": "20ms"},
        "[PACKET_LOSS] == 0",
        "[CONNECTED] == true",
    )
    result = await registry.get("icmp").execute(check, time.time())
    assert result.outcome is Outcome.OK, result.message
    assert result.details["received"] == 3
    assert result.details["packet_loss"] == 0
    assert result.details["socket"] == ("datagram" if datagram_allowed() else "raw")
    details = result.details
    assert details["rtt_min_ms"] <= details["rtt_avg_ms"] <= details["rtt_max_ms"]
    assert f"({details['socket']} socket)" in result.message


async def test_one_ping_without_conditions_reads_as_a_judged_one(
    registry: ExecutorRegistry,
) -> None:
    executor = registry.get("icmp")
    plain = make_check("icmp", {"host": "127.0.0.1", "count": 1}, check_id="icmp.plain")
    judged = make_check(
        "icmp", {"host": "127.0.0.1", "count": 1}, "[CONNECTED] == true", check_id="icmp.judged"
    )
    fast = await executor.execute(plain, time.time())
    general = await executor.execute(judged, time.time())
    shape = (
        r"1/1 replies from 127\.0\.0\.1, 0% loss, "
        r"rtt (\d+\.\d)/\1/\1/0\.0 ms \((datagram|raw) socket\)"
    )
    for result in (fast, general):
        assert result.outcome is Outcome.OK, result.message
        assert re.fullmatch(shape, result.message), result.message
    assert list(fast.details) == list(general.details)
    assert list(fast.timings) == list(general.timings)
    assert fast.details["rtt_min_ms"] == fast.details["rtt_max_ms"] == fast.details["rtt_avg_ms"]
    assert fast.timings["rtt"] * 1000 == pytest.approx(fast.details["rtt_avg_ms"])


@pytest.fixture
def pair() -> Iterator[NetnsPair]:
    with NetnsPair() as made:
        yield made


def run_in_prober(pair: NetnsPair, params: dict[str, Any], *conditions: str) -> dict[str, Any]:
    done = pair.run(
        sys.executable, "-m", "tests.servers.run_probe", "icmp", json.dumps(params), *conditions
    )
    assert done.returncode == 0, done.stderr
    record: dict[str, Any] = json.loads(done.stdout)
    return record


def start_responder(pair: NetnsPair, *args: str) -> None:
    pair.sysctl(pair.target, "net.ipv4.icmp_echo_ignore_all", "1")
    pair.sysctl(pair.target, "net.ipv6.icmp.echo_ignore_all", "1")
    child = pair.spawn_target(sys.executable, "-m", "tests.servers.icmp_responder", *args)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"


@needs_netns
@pytest.mark.parametrize("version", ["4", "6"])
def test_the_kernel_s_replies_across_namespaces_over_a_datagram_socket(
    pair: NetnsPair, version: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    pair.sysctl(pair.prober, "net.ipv4.ping_group_range", "0 2147483647")
    target = pair.TARGET_V4 if version == "4" else pair.TARGET_V6
    result = run_in_prober(pair, {"host": target, "count": 4, "packet_interval": "20ms"})
    assert result["outcome"] == "ok", result["message"]
    assert result["details"]["socket"] == "datagram"
    assert result["details"]["packet_loss"] == 0
    assert result["details"]["ip"] == target


@needs_netns
@pytest.mark.parametrize("version", ["4", "6"])
def test_injected_loss_and_delay_are_what_the_probe_reports(
    pair: NetnsPair, version: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    start_responder(pair, "--delay-ms", "40", "--drop-every", "4")
    target = pair.TARGET_V4 if version == "4" else pair.TARGET_V6
    params = {"host": target, "count": 8, "packet_interval": "20ms", "reply_wait": "1s"}
    result = run_in_prober(pair, params, "[PACKET_LOSS] < 30")
    strict = run_in_prober(pair, {**params, "max_packet_loss": 10})
    assert result["outcome"] == "ok", result["message"]
    details = result["details"]
    assert details["socket"] == "raw"  # this namespace keeps the default ping_group_range
    assert details["sent"] == 8
    assert details["received"] == 6  # requests 1 and 5 dropped
    assert details["packet_loss"] == 25.0
    assert details["rtt_min_ms"] >= 40.0  # the injected delay is a floor, whatever the load
    assert strict["outcome"] == "fail"
    assert "25% packet loss, more than 10%" in strict["message"]


@needs_netns
def test_a_host_that_never_answers_fails_with_full_loss(
    pair: NetnsPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    start_responder(pair, "--drop-every", "1")
    result = run_in_prober(
        pair, {"host": pair.TARGET_V4, "count": 3, "packet_interval": "20ms", "reply_wait": "300ms"}
    )
    assert result["outcome"] == "fail"
    assert result["message"] == f"no reply from {pair.TARGET_V4} to 3 echo requests (100% loss)"
    assert result["details"]["packet_loss"] == 100.0


async def test_a_name_that_does_not_resolve_is_an_error(registry: ExecutorRegistry) -> None:
    check = make_check("icmp", {"host": "no-such-host.invalid"})
    result = await registry.get("icmp").execute(check, time.time())
    assert result.outcome is Outcome.ERROR
    assert result.message == "cannot resolve no-such-host.invalid"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param({"count": 0}, "count", id="count"),
        pytest.param({"max_packet_loss": 101}, "max_packet_loss", id="loss"),
        pytest.param({"ip_version": "5"}, "ip_version", id="version"),
        pytest.param({"packet_interval": "soon"}, "packet_interval", id="interval"),
    ],
)
def test_bad_icmp_params_are_refused(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        IcmpSpec.model_validate({"host": "127.0.0.1", **params})
