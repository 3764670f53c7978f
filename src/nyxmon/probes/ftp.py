"""The ``ftp`` check type: banner (220), FEAT, AUTH TLS, an optional USER/PASS login, QUIT.
Port 21 by default (990 with implicit TLS). No data connection is opened."""

from __future__ import annotations

from typing import ClassVar

from nyxmon.checktypes.ftp import FtpSpec
from nyxmon.domain.model import Outcome
from nyxmon.probes.registry import SharedResources
from nyxmon.probes.replies import read_code_reply
from nyxmon.probes.server_dialog import DialogExecutor, refused
from nyxmon.probes.stream_session import SessionFailure, StreamSession

__all__ = ["TYPE_NAME", "FtpExecutor", "create_executor"]

TYPE_NAME = "ftp"


class FtpExecutor(DialogExecutor[FtpSpec]):
    type_name: ClassVar[str] = TYPE_NAME
    spec_model = FtpSpec
    ports = (21, 990)
    protocol = "FTP"

    async def greet(self, session: StreamSession, spec: FtpSpec) -> str:
        reply = await read_code_reply(session, "the banner", "FTP")
        if reply.code != 220:
            raise SessionFailure(
                Outcome.FAIL, f"FTP banner of {session.target} is {reply.code} {reply.text}"
            )
        return reply.text

    async def capabilities(self, session: StreamSession, spec: FtpSpec) -> list[str]:
        await session.send(b"FEAT\r\n")
        reply = await read_code_reply(session, "the FEAT reply", "FTP")
        if reply.code != 211:
            return []
        return [line.strip() for line in reply.lines[1:] if line.strip()]

    async def request_tls(self, session: StreamSession, spec: FtpSpec, offered: list[str]) -> None:
        await session.send(b"AUTH TLS\r\n")
        reply = await read_code_reply(session, "the AUTH TLS reply", "FTP")
        if reply.code != 234:
            raise refused(session, "AUTH TLS", f"{reply.code} {reply.text}")

    async def login(self, session: StreamSession, spec: FtpSpec, offered: list[str]) -> None:
        await session.send(f"USER {spec.username}\r\n".encode())
        reply = await read_code_reply(session, "the USER reply", "FTP")
        if reply.code == 331:
            await session.send(f"PASS {spec.password or ''}\r\n".encode())
            reply = await read_code_reply(session, "the PASS reply", "FTP")
        if reply.code != 230:
            raise refused(session, f"login as {spec.username}", f"{reply.code} {reply.text}")


def create_executor(resources: SharedResources) -> FtpExecutor:
    """Registry factory: FTP probes need no shared resources."""
    return FtpExecutor()
