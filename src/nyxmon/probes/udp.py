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
from _socket import socket as _bare_socket
from typing import ClassVar, cast

from nyxmon.checktypes.udp import UdpSpec
from nyxmon.domain.conditions import Observation, evaluate_all
from nyxmon.domain.model import Outcome, Result
from nyxmon.probes.base import PreparedCheck, ProbeExecutor, ProbeRun, os_error_reason
from nyxmon.probes.registry import SharedResources
from nyxmon.probes.replies import quote
from nyxmon.probes.stream_session import show_target

__all__ = ["TYPE_NAME", "UdpExecutor", "create_executor"]

TYPE_NAME = "udp"
#: The largest UDP payload: a reply is read whole (its size is reported), then cut to
#: ``read_limit``.
_MAX_DATAGRAM = 65_535
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
        # A bare non-blocking socket: a datagram endpoint (transport and protocol) costs about
        # as much again as the whole exchange on loopback.
        # ``_socket.socket``: ``socket.socket``'s Python layer (its ``__init__`` and ``close``)
        # is no use to a socket that lives for one datagram (``sock_recv`` needs only its
        # ``fileno`` and ``recv``, which the C type has).
        sock = cast(socket.socket, _bare_socket(family, socket.SOCK_DGRAM | _NONBLOCK))
        try:
            if not _NONBLOCK:
                sock.setblocking(False)
            try:
                sock.connect((ip, spec.port))
            except OSError as exc:
                return run.finish(Outcome.ERROR, f"cannot reach {target}: {os_error_reason(exc)}")
            run.details["ip"] = ip
            sent = time.perf_counter()
            sock.send(spec.datagram())
            if spec.expect_silence:
                try:
                    async with asyncio.timeout(spec.silence_wait):
                        reply = await loop.sock_recv(sock, _MAX_DATAGRAM)
                except TimeoutError:
                    return run.finish(
                        Outcome.OK, f"no reply from {target} within {spec.silence_wait:g} s"
                    )
            else:
                reply = await loop.sock_recv(sock, _MAX_DATAGRAM)
        except OSError as exc:
            return run.finish(Outcome.ERROR, f"{target} unreachable: {os_error_reason(exc)}")
        finally:
            sock.close()
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
