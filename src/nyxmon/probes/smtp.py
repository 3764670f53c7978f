"""The ``smtp`` check type: greeting (220), EHLO capabilities, STARTTLS, an optional AUTH PLAIN
login, QUIT. Port 25 by default (465 with implicit TLS); 587 is the submission port to set."""

from __future__ import annotations

import base64
from typing import ClassVar

from nyxmon.checktypes.smtp import SmtpSpec
from nyxmon.domain.model import Outcome
from nyxmon.probes.registry import SharedResources
from nyxmon.probes.replies import read_code_reply
from nyxmon.probes.server_dialog import DialogExecutor, not_offered, refused
from nyxmon.probes.stream_session import SessionFailure, StreamSession

__all__ = ["TYPE_NAME", "SmtpExecutor", "create_executor"]

TYPE_NAME = "smtp"


class SmtpExecutor(DialogExecutor[SmtpSpec]):
    type_name: ClassVar[str] = TYPE_NAME
    spec_model = SmtpSpec
    ports = (25, 465)
    protocol = "SMTP"

    async def greet(self, session: StreamSession, spec: SmtpSpec) -> str:
        reply = await read_code_reply(session, "the banner", "SMTP")
        if reply.code != 220:
            raise SessionFailure(
                Outcome.FAIL, f"SMTP banner of {session.target} is {reply.code} {reply.text}"
            )
        return reply.text

    async def capabilities(self, session: StreamSession, spec: SmtpSpec) -> list[str]:
        await session.send(f"EHLO {spec.helo_name}\r\n".encode())
        reply = await read_code_reply(session, "the EHLO reply", "SMTP")
        if reply.code != 250:
            raise refused(session, "EHLO", f"{reply.code} {reply.text}")
        return [line.strip() for line in reply.lines[1:]]

    async def request_tls(self, session: StreamSession, spec: SmtpSpec, offered: list[str]) -> None:
        if not any(item.upper() == "STARTTLS" for item in offered):
            raise not_offered(session, "SMTP", "STARTTLS")
        await session.send(b"STARTTLS\r\n")
        reply = await read_code_reply(session, "the STARTTLS reply", "SMTP")
        if reply.code != 220:
            raise refused(session, "STARTTLS", f"{reply.code} {reply.text}")

    async def login(self, session: StreamSession, spec: SmtpSpec, offered: list[str]) -> None:
        if not any(item.upper().startswith("AUTH") for item in offered):
            raise not_offered(session, "SMTP", "AUTH")
        token = f"\0{spec.username}\0{spec.password or ''}".encode()
        await session.send(b"AUTH PLAIN " + base64.b64encode(token) + b"\r\n")
        reply = await read_code_reply(session, "the AUTH reply", "SMTP")
        if reply.code != 235:
            raise refused(session, f"login as {spec.username}", f"{reply.code} {reply.text}")


def create_executor(resources: SharedResources) -> SmtpExecutor:
    """Registry factory: SMTP probes need no shared resources."""
    return SmtpExecutor()
