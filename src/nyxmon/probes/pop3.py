"""The ``pop3`` check type: greeting (``+OK``), CAPA, STLS, an optional USER/PASS login, QUIT.
Port 110 by default (995 with implicit TLS)."""

from __future__ import annotations

from typing import ClassVar

from nyxmon.checktypes.pop3 import Pop3Spec
from nyxmon.domain.model import Outcome
from nyxmon.probes.registry import SharedResources
from nyxmon.probes.replies import read_pop3_reply
from nyxmon.probes.server_dialog import DialogExecutor, not_offered, refused
from nyxmon.probes.stream_session import SessionFailure, StreamSession

__all__ = ["TYPE_NAME", "Pop3Executor", "create_executor"]

TYPE_NAME = "pop3"
_MAX_CAPABILITIES = 100


class Pop3Executor(DialogExecutor[Pop3Spec]):
    type_name: ClassVar[str] = TYPE_NAME
    spec_model = Pop3Spec
    ports = (110, 995)
    protocol = "POP3"

    async def greet(self, session: StreamSession, spec: Pop3Spec) -> str:
        ok, text = await read_pop3_reply(session, "the banner")
        if not ok:
            raise SessionFailure(Outcome.FAIL, f"POP3 greeting of {session.target} is -ERR {text}")
        return f"+OK {text}"

    async def capabilities(self, session: StreamSession, spec: Pop3Spec) -> list[str]:
        await session.send(b"CAPA\r\n")
        ok, _ = await read_pop3_reply(session, "the CAPA reply")
        offered: list[str] = []
        while ok and len(offered) < _MAX_CAPABILITIES:
            line = session.line_nowait("the CAPA list")
            if line is None:
                line = await session.read_line("the CAPA list")
            if line == b".":
                break
            offered.append(line.decode("utf-8", "replace"))
        return offered

    async def request_tls(self, session: StreamSession, spec: Pop3Spec, offered: list[str]) -> None:
        if "STLS" not in (item.upper() for item in offered):
            raise not_offered(session, "POP3", "STLS")
        await session.send(b"STLS\r\n")
        ok, text = await read_pop3_reply(session, "the STLS reply")
        if not ok:
            raise refused(session, "STLS", f"-ERR {text}")

    async def login(self, session: StreamSession, spec: Pop3Spec, offered: list[str]) -> None:
        await session.send(f"USER {spec.username}\r\n".encode())
        ok, text = await read_pop3_reply(session, "the USER reply")
        if ok:
            await session.send(f"PASS {spec.password or ''}\r\n".encode())
            ok, text = await read_pop3_reply(session, "the PASS reply")
        if not ok:
            raise refused(session, f"login as {spec.username}", f"-ERR {text}")


def create_executor(resources: SharedResources) -> Pop3Executor:
    """Registry factory: POP3 probes need no shared resources."""
    return Pop3Executor()
