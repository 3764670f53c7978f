"""Two network namespaces joined by a veth pair, made (and removed) by a test: a prober side and
a target side with IPv4 and IPv6 addresses, for probes that need a real network path (ICMP).

``with NetnsPair() as pair``: ``pair.run(cmd)`` runs in the prober namespace,
``pair.spawn_target(cmd)`` starts a process in the target one. Needs root (CAP_SYS_ADMIN);
:func:`netns_available` says whether this machine allows it.
"""

from __future__ import annotations

import itertools
import os
import subprocess
from types import TracebackType

__all__ = ["NetnsPair", "netns_available"]

_COUNTER = itertools.count()


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def netns_available() -> bool:
    if os.geteuid() != 0:
        return False
    name = f"nyxprobe{os.getpid()}"
    try:
        _ip("netns", "add", name)
    except (OSError, subprocess.CalledProcessError):
        return False
    _ip("netns", "del", name)
    return True


class NetnsPair:
    PROBER_V4 = "10.200.0.1"
    TARGET_V4 = "10.200.0.2"
    PROBER_V6 = "fd00:200::1"
    TARGET_V6 = "fd00:200::2"

    def __init__(self) -> None:
        tag = f"{os.getpid() % 100000}x{next(_COUNTER)}"
        self.prober = f"nyxp{tag}"
        self.target = f"nyxt{tag}"
        self._veth = (f"nvp{tag}"[:15], f"nvt{tag}"[:15])
        self._children: list[subprocess.Popen[str]] = []

    def __enter__(self) -> NetnsPair:
        a, b = self._veth
        _ip("netns", "add", self.prober)
        _ip("netns", "add", self.target)
        try:
            _ip("link", "add", a, "type", "veth", "peer", "name", b)
            _ip("link", "set", a, "netns", self.prober)
            _ip("link", "set", b, "netns", self.target)
            for ns, dev, v4, v6 in (
                (self.prober, a, self.PROBER_V4, self.PROBER_V6),
                (self.target, b, self.TARGET_V4, self.TARGET_V6),
            ):
                _ip("-n", ns, "addr", "add", f"{v4}/24", "dev", dev)
                _ip("-n", ns, "-6", "addr", "add", f"{v6}/64", "dev", dev, "nodad")
                _ip("-n", ns, "link", "set", dev, "up")
                _ip("-n", ns, "link", "set", "lo", "up")
        except BaseException:
            self._remove()
            raise
        return self

    @property
    def prober_link(self) -> str:
        """The prober side's veth device (``ip -n PROBER link set ... down`` cuts the link)."""
        return self._veth[0]

    def sysctl(self, namespace: str, key: str, value: str) -> None:
        subprocess.run(
            ["ip", "netns", "exec", namespace, "sysctl", "-qw", f"{key}={value}"], check=True
        )

    def run(self, *cmd: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ip", "netns", "exec", self.prober, *cmd],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def spawn_target(self, *cmd: str) -> subprocess.Popen[str]:
        child = subprocess.Popen(
            ["ip", "netns", "exec", self.target, *cmd],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._children.append(child)
        return child

    def _remove(self) -> None:
        for child in self._children:
            child.kill()
            child.communicate(timeout=10)  # reaps it and closes its pipes
        for ns in (self.prober, self.target):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._remove()
