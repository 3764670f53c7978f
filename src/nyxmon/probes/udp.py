"""The ``udp`` check type: one datagram to ``host:port``, then a reply or silence expected.

Expecting a reply, a run passes when one arrives (matching ``expect_regex``) before the check's
timeout. Expecting silence, it passes when nothing comes back within ``silence_wait``. Either
way an ICMP "port unreachable" (which the kernel reports on a connected UDP socket) is an
error: nothing listens there. Each run uses one connected non-blocking datagram socket.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import re
import socket
import time
from typing import Any, ClassVar

from nyxmon.checktypes.udp import UdpSpec
from nyxmon.domain.conditions import Observation, evaluate_all
from nyxmon.domain.model import Outcome, Result
from nyxmon.probes.base import PreparedCheck, ProbeExecutor, ProbeRun, os_error_reason
from nyxmon.probes.registry import SharedResources
from nyxmon.probes.replies import quote
from nyxmon.probes.stream_session import show_target

__all__ = ["TYPE_NAME", "UdpExecutor", "create_executor"]

TYPE_NAME = "udp"
#: Linux opens the socket non-blocking in the same call (no ``setblocking`` syscall).
_NONBLOCK = getattr(socket, "SOCK_NONBLOCK", 0)


@functools.lru_cache(maxsize=4096)
def _literal_ip(host: str) -> str | None:
    """``host`` as the kernel writes it when it is an IP address, else None."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


async def _address(loop: asyncio.AbstractEventLoop, host: str, port: int) -> tuple[int, str]:
    """(family, address) to send to: ``host`` itself when it is an IP address."""
    ip = _literal_ip(host)
    if ip is not None:
        return (socket.AF_INET6 if ":" in ip else socket.AF_INET), ip
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    family, _, _, _, sockaddr = infos[0]
    return family, str(sockaddr[0])


class _Reply(asyncio.DatagramProtocol):
    """Resolves ``got`` with the first datagram (whole: its size is reported, then it is cut
    to ``read_limit``), or with the error the kernel reported (an
    ICMP "port unreachable" arrives as ``ConnectionRefusedError`` on a connected socket)."""

    __slots__ = ("got",)

    def __init__(self, got: asyncio.Future[bytes]) -> None:
        self.got = got

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if not self.got.done():
            self.got.set_result(data)

    def error_received(self, exc: Exception) -> None:
        if not self.got.done():
            self.got.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None and not self.got.done():
            self.got.set_exception(exc)


class UdpExecutor(ProbeExecutor[UdpSpec]):
    """Runs ``udp`` checks (no shared resources)."""

    type_name: ClassVar[str] = TYPE_NAME
    spec_model = UdpSpec

    async def probe(self, run: ProbeRun, prepared: PreparedCheck[UdpSpec]) -> Result:
        spec = prepared.spec
        target = show_target(spec.host, spec.port)
        run.details["target"] = target
        loop = asyncio.get_running_loop()
        ip = _literal_ip(spec.host)
        family: int
        try:
            if ip is not None:
                family = socket.AF_INET6 if ":" in ip else socket.AF_INET
            else:
                family, ip = await _address(loop, spec.host, spec.port)
        except socket.gaierror:
            return run.finish(Outcome.ERROR, f"cannot resolve {spec.host}")
        # Our own connected socket under a datagram endpoint: uvloop's UDP handle joins the
        # poller once (``sock_recv`` on a bare socket costs six ``epoll_ctl`` calls and an
        # ``ioctl`` a run), and passing the socket skips the endpoint's address lookup and
        # connect (measured: 13% less CPU a run than either alone).
        sock = socket.socket(family, socket.SOCK_DGRAM | _NONBLOCK)
        try:
            if not _NONBLOCK:
                sock.setblocking(False)
            sock.connect((ip, spec.port))
        except OSError as exc:
            sock.close()
            return run.finish(Outcome.ERROR, f"cannot reach {target}: {os_error_reason(exc)}")
        got: asyncio.Future[bytes] = loop.create_future()
        try:
            transport, _ = await loop.create_datagram_endpoint(lambda: _Reply(got), sock=sock)
        except OSError as exc:
            sock.close()
            return run.finish(Outcome.ERROR, f"cannot reach {target}: {os_error_reason(exc)}")
        except BaseException:
            sock.close()
            raise
        try:
            run.details["ip"] = ip
            sent = time.perf_counter()
            transport.sendto(spec.datagram())
            if spec.expect_silence:
                try:
                    async with asyncio.timeout(spec.silence_wait):
                        reply = await got
                except TimeoutError:
                    return run.finish(
                        Outcome.OK, f"no reply from {target} within {spec.silence_wait:g} s"
                    )
            else:
                reply = await got
        except OSError as exc:
            return run.finish(Outcome.ERROR, f"{target} unreachable: {os_error_reason(exc)}")
        finally:
            transport.close()
        took = time.perf_counter() - sent
        run.timings["reply"] = took
        return self._judge(run, prepared, reply[: spec.read_limit], len(reply), took, target)

    def _judge(
        self,
        run: ProbeRun,
        prepared: PreparedCheck[UdpSpec],
        reply: bytes,
        size: int,
        took: float,
        target: str,
    ) -> Result:
        spec = prepared.spec
        run.details["reply"] = reply[:200].decode("utf-8", "replace")
        run.details["size"] = size
        problems: list[str] = []
        if spec.expect_silence:
            problems.append(f"{target} replied {quote(reply[:80])}, silence expected")
        elif spec.expect_regex and re.search(spec.expect_regex.encode(), reply) is None:
            problems.append(f"reply {quote(reply[:80])} does not match {spec.expect_regex!r}")
        if prepared.conditions:
            observation = Observation(
                body=reply,
                body_size=size,
                response_time_ms=took * 1000,
                ips=(run.details["ip"],) if "ip" in run.details else (),
            )
            outcomes = evaluate_all(prepared.conditions, observation)
            failed = [o.description for o in outcomes if not o.ok]
            if failed:
                run.details["failed_conditions"] = failed
                problems.extend(failed)
        if problems:
            return run.finish(Outcome.FAIL, "; ".join(problems))
        return run.finish(Outcome.OK, f"{size} bytes from {target} in {took * 1000:.0f} ms")

    def on_timeout(self, run: ProbeRun) -> str:
        target = run.details.get("target", "the target")
        return f"no reply from {target} within {run.check.timeout:g} s"


def create_executor(resources: SharedResources) -> UdpExecutor:
    """Registry factory: UDP probes need no shared resources."""
    return UdpExecutor()
