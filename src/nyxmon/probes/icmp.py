"""The ``icmp`` check type: ``count`` echo requests ``packet_interval`` apart, loss and round trips.

A run fails when every request is lost, or more than ``max_packet_loss`` percent; a passing run
whose average round trip exceeds ``max_rtt`` is degraded. Round trips are min/avg/max/mdev in
milliseconds, as ``ping`` prints them (mdev is the standard deviation). Replies are awaited
``reply_wait`` after the last request, but never past the check's timeout: what has not come
back by then counts as lost, so a lossy host gives a loss figure rather than a timeout.
The details say whether a datagram or a raw socket was used (:mod:`nyxmon.probes.icmp_socket`).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import math
import socket
import time
from typing import ClassVar

from nyxmon.checktypes.icmp import IcmpSpec
from nyxmon.domain.conditions import Observation, evaluate_all
from nyxmon.domain.model import Check, Outcome, Result
from nyxmon.probes.base import PreparedCheck, ProbeExecutor, ProbeRun, os_error_reason
from nyxmon.probes.deadlines import Deadlines
from nyxmon.probes.icmp_socket import Pinger, PingUnavailable, open_pinger
from nyxmon.probes.registry import SharedResources

__all__ = ["TYPE_NAME", "IcmpExecutor", "create_executor"]

TYPE_NAME = "icmp"
#: The "reply time" of a request given up on.
_LOST = math.nan
#: Kept free at the end of the check's timeout to judge what came back.
_MARGIN = 0.05
_FAMILIES = {"4": socket.AF_INET, "6": socket.AF_INET6}


@functools.lru_cache(maxsize=64)
def _payload(size: int) -> bytes:
    return bytes(i & 0xFF for i in range(size))


@functools.lru_cache(maxsize=4096)
def _literal_address(host: str) -> tuple[int, str] | None:
    """(family, canonical text) of an IP address written as the host, or None for a name."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return (socket.AF_INET if address.version == 4 else socket.AF_INET6), str(address)


def _give_up(future: asyncio.Future[float]) -> None:
    if not future.done():
        future.set_result(_LOST)


async def _one_or_none(future: asyncio.Future[float], wait: float, deadlines: Deadlines) -> None:
    """Until ``future`` is done or ``wait`` seconds passed (the common one-request run): a
    request still unanswered then is resolved as lost (NaN). The wait is an alarm on the
    executor's shared timer, not a loop timer of its own."""
    alarm = deadlines.set(wait, _give_up, future)
    try:
        await future
    finally:
        deadlines.clear(alarm)


async def _all_or_none(futures: list[asyncio.Future[float]], wait: float) -> None:
    """Until every future is done or ``wait`` seconds passed: one waiter and one timer per
    run (``asyncio.wait`` costs several times more, and a ping run is little else)."""
    loop = asyncio.get_running_loop()
    finished = loop.create_future()
    left = len(futures)

    def one_done(_: asyncio.Future[float]) -> None:
        nonlocal left
        left -= 1
        if left == 0 and not finished.done():
            finished.set_result(None)

    def time_up() -> None:
        if not finished.done():
            finished.set_result(None)

    for future in futures:
        future.add_done_callback(one_done)
    timer = loop.call_later(wait, time_up)
    try:
        await finished
    finally:
        timer.cancel()
        for future in futures:
            future.remove_done_callback(one_done)


def _stats(rtts: list[float]) -> dict[str, float]:
    if len(rtts) == 1:
        one = round(rtts[0] * 1000, 3)
        return {"rtt_min_ms": one, "rtt_avg_ms": one, "rtt_max_ms": one, "rtt_mdev_ms": 0.0}
    ms = [rtt * 1000 for rtt in rtts]
    avg = sum(ms) / len(ms)
    mdev = math.sqrt(max(0.0, sum(x * x for x in ms) / len(ms) - avg * avg))
    return {
        "rtt_min_ms": round(min(ms), 3),
        "rtt_avg_ms": round(avg, 3),
        "rtt_max_ms": round(max(ms), 3),
        "rtt_mdev_ms": round(mdev, 3),
    }


class IcmpExecutor(ProbeExecutor[IcmpSpec]):
    """Runs ``icmp`` checks over one shared ICMP socket per address family."""

    type_name: ClassVar[str] = TYPE_NAME
    spec_model = IcmpSpec

    def __init__(self) -> None:
        super().__init__()
        self._pingers: dict[int, Pinger] = {}

    def _pinger(self, family: int) -> Pinger:
        pinger = self._pingers.get(family)
        if pinger is None:
            pinger = self._pingers[family] = open_pinger(family)
        return pinger

    async def _address(self, spec: IcmpSpec) -> tuple[int, str]:
        literal = _literal_address(spec.host)
        if literal is not None:
            return literal
        family = _FAMILIES.get(spec.ip_version, socket.AF_UNSPEC)
        infos = await asyncio.get_running_loop().getaddrinfo(
            spec.host, None, family=family, type=socket.SOCK_DGRAM
        )
        chosen_family, _, _, _, sockaddr = infos[0]
        return chosen_family, str(ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0]))

    async def probe(self, run: ProbeRun, prepared: PreparedCheck[IcmpSpec]) -> Result:
        spec = prepared.spec
        literal = _literal_address(spec.host)
        try:
            family, address = literal if literal is not None else await self._address(spec)
        except socket.gaierror:
            return run.finish(Outcome.ERROR, f"cannot resolve {spec.host}")
        wanted = _FAMILIES.get(spec.ip_version)
        if wanted is not None and family != wanted:
            return run.finish(Outcome.ERROR, f"{spec.host} is not an IPv{spec.ip_version} address")
        try:
            pinger = self._pinger(family)
        except PingUnavailable as exc:
            return run.finish(Outcome.ERROR, str(exc))
        run.details["ip"] = address
        run.details["socket"] = pinger.kind
        payload = _payload(spec.payload_size)
        deadline = run.start + run.check.timeout - _MARGIN
        if spec.count == 1:
            return await self._ping_once(run, prepared, pinger, address, payload, deadline)
        sent: list[tuple[float, asyncio.Future[float]]] = []
        seqs: list[int] = []
        try:
            for index in range(spec.count):
                if index:
                    await asyncio.sleep(spec.packet_interval)
                at = time.perf_counter()
                seq, future = pinger.send(address, payload)
                seqs.append(seq)
                sent.append((at, future))
            wait = min(spec.reply_wait, deadline - time.perf_counter())
            pending = [future for _, future in sent if not future.done()]
            if len(pending) == 1 and wait > 0:
                await _one_or_none(pending[0], wait, self.deadlines(pending[0].get_loop()))
            elif pending and wait > 0:
                await _all_or_none(pending, wait)
        except OSError as exc:
            if not sent:
                return run.finish(Outcome.ERROR, f"cannot ping {address}: {os_error_reason(exc)}")
            run.details["send_error"] = os_error_reason(exc)
        finally:
            pinger.forget(address, seqs)
        rtts = [
            future.result() - at
            for at, future in sent
            if future.done() and not future.cancelled() and future.result() == future.result()
        ]  # (a lost request's NaN is not equal to itself)
        return self._judge(run, prepared, address, spec.count, rtts)

    async def _ping_once(
        self,
        run: ProbeRun,
        prepared: PreparedCheck[IcmpSpec],
        pinger: Pinger,
        address: str,
        payload: bytes,
        deadline: float,
    ) -> Result:
        """The run of one echo request (the most common ping check), without the lists."""
        at = time.perf_counter()
        try:
            seq, future = pinger.send(address, payload)
        except OSError as exc:
            return run.finish(Outcome.ERROR, f"cannot ping {address}: {os_error_reason(exc)}")
        try:
            wait = min(prepared.spec.reply_wait, deadline - time.perf_counter())
            if not future.done() and wait > 0:
                await _one_or_none(future, wait, self.deadlines(future.get_loop()))
        finally:
            pinger.forget(address, (seq,))
        arrived = future.result() if future.done() and not future.cancelled() else _LOST
        rtts = [] if arrived != arrived else [arrived - at]  # a lost request's NaN
        return self._judge(run, prepared, address, 1, rtts)

    def _judge(
        self,
        run: ProbeRun,
        prepared: PreparedCheck[IcmpSpec],
        address: str,
        count: int,
        rtts: list[float],
    ) -> Result:
        spec = prepared.spec
        received = len(rtts)
        loss = round(100.0 * (count - received) / count, 2)
        details = run.details
        details["sent"] = count
        details["received"] = received
        details["packet_loss"] = loss
        stats = _stats(rtts) if rtts else {}
        if rtts:
            details.update(stats)
            run.timings["rtt"] = stats["rtt_avg_ms"] / 1000
        problems = []
        if received == 0:
            problems.append(f"no reply from {address} to {count} echo requests (100% loss)")
        elif spec.max_packet_loss is not None and loss > spec.max_packet_loss:
            problems.append(f"{loss:g}% packet loss, more than {spec.max_packet_loss:g}%")
        if prepared.conditions:
            observation = Observation(
                packet_loss=loss,
                response_time_ms=stats.get("rtt_avg_ms"),
                connected=received > 0,
                ips=(address,),
            )
            outcomes = evaluate_all(prepared.conditions, observation)
            failed = [o.description for o in outcomes if not o.ok]
            if failed:
                details["failed_conditions"] = failed
                problems.extend(failed)
        if problems:
            return run.finish(Outcome.FAIL, "; ".join(problems))
        message = (
            f"{received}/{count} replies from {address}, {loss:g}% loss, rtt "
            f"{stats['rtt_min_ms']:.1f}/{stats['rtt_avg_ms']:.1f}/{stats['rtt_max_ms']:.1f}/"
            f"{stats['rtt_mdev_ms']:.1f} ms ({details['socket']} socket)"
        )
        if spec.max_rtt is not None and stats["rtt_avg_ms"] > spec.max_rtt * 1000:
            return run.finish(
                Outcome.OK, f"{message}, slower than {spec.max_rtt * 1000:.0f} ms", degraded=True
            )
        return run.finish(Outcome.OK, message)

    def ends_in_time(self, check: Check, prepared: PreparedCheck[IcmpSpec]) -> bool:
        """A ping of an address (no name to resolve) whose requests are all sent before the
        deadline waits for replies only until then: it needs no timer of ``execute``'s."""
        spec = prepared.spec
        return (
            _literal_address(spec.host) is not None
            and (spec.count - 1) * spec.packet_interval < check.timeout - 2 * _MARGIN
        )

    def on_timeout(self, run: ProbeRun) -> str:
        address = run.details.get("ip", "the host")
        return f"pinging {address} did not end within {run.check.timeout:g} s"

    async def aclose(self) -> None:
        pingers, self._pingers = self._pingers, {}
        for pinger in pingers.values():
            pinger.close()
        await super().aclose()


def create_executor(resources: SharedResources) -> IcmpExecutor:
    """Registry factory: the executor owns its ICMP sockets."""
    return IcmpExecutor()
