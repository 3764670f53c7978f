"""The ``ssh`` check type: the server's identification line (``SSH-2.0-OpenSSH_9.2p1 ...``,
RFC 4253 section 4.2): protocol version and software, no key exchange and no login.

Lines before the identification are allowed (the RFC lets servers send them) when the
identification follows within a second, so a non-SSH service fails instead of timing out. A
server that offers another protocol version than the check's ``protocol_version`` (1.99 counts
as 2.0: it speaks both) fails.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from nyxmon.checktypes.ssh import SshSpec
from nyxmon.domain.model import Outcome
from nyxmon.probes.registry import SharedResources
from nyxmon.probes.replies import quote
from nyxmon.probes.server_dialog import DialogExecutor
from nyxmon.probes.stream_session import SessionFailure, StreamSession

__all__ = ["TYPE_NAME", "SshExecutor", "create_executor"]

TYPE_NAME = "ssh"
_MAX_PRELUDE = 20
#: How long a line that is not the identification may wait for one to follow.
_PRELUDE_WAIT = 1.0


class SshExecutor(DialogExecutor[SshSpec]):
    type_name: ClassVar[str] = TYPE_NAME
    spec_model = SshSpec
    ports = (22, 22)
    protocol = "SSH"

    async def greet(self, session: StreamSession, spec: SshSpec) -> str:
        first = line = await session.read_line("the identification")
        for _ in range(_MAX_PRELUDE):
            if line.startswith(b"SSH-"):
                break
            try:  # other lines may precede the identification, but not instead of it
                async with asyncio.timeout(_PRELUDE_WAIT):
                    line = await session.read_line("the identification")
            except (TimeoutError, SessionFailure):
                break
        if not line.startswith(b"SSH-"):
            raise SessionFailure(Outcome.FAIL, f"{session.target} is not SSH: {quote(first)}")
        text = line.decode("utf-8", "replace")
        _, _, rest = text.partition("-")
        version = rest.partition("-")[0]
        offered = "2.0" if version == "1.99" else version
        if offered != spec.protocol_version:
            raise SessionFailure(
                Outcome.FAIL,
                f"SSH server {session.target} speaks protocol {version}, "
                f"expected {spec.protocol_version}: {quote(text)}",
            )
        return text

    def describe_banner(self, banner: str) -> dict[str, str]:
        _, _, rest = banner.partition("-")
        version, _, software = rest.partition("-")
        return {"ssh_protocol": version, "ssh_software": software.split(" ", 1)[0]}

    def goodbye(self) -> bytes:
        return b""


def create_executor(resources: SharedResources) -> SshExecutor:
    """Registry factory: SSH probes need no shared resources."""
    return SshExecutor()
