"""The ``imap`` check type: greeting (``* OK``), CAPABILITY, STARTTLS, an optional LOGIN, LOGOUT.
Port 143 by default (993 with implicit TLS)."""

from __future__ import annotations

from typing import ClassVar

from nyxmon.checktypes.imap import ImapSpec
from nyxmon.domain.model import Outcome
from nyxmon.probes.registry import SharedResources
from nyxmon.probes.replies import quote, read_imap_tagged
from nyxmon.probes.server_dialog import DialogExecutor, not_offered, refused
from nyxmon.probes.stream_session import SessionFailure, StreamSession

__all__ = ["TYPE_NAME", "ImapExecutor", "create_executor"]

TYPE_NAME = "imap"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapExecutor(DialogExecutor[ImapSpec]):
    type_name: ClassVar[str] = TYPE_NAME
    spec_model = ImapSpec
    ports = (143, 993)
    protocol = "IMAP"

    async def greet(self, session: StreamSession, spec: ImapSpec) -> str:
        raw = await session.read_line("the banner")
        if not raw.startswith((b"* OK", b"* PREAUTH")):
            raise SessionFailure(Outcome.FAIL, f"IMAP greeting of {session.target} is {quote(raw)}")
        return raw[2:].decode("utf-8", "replace")

    async def capabilities(self, session: StreamSession, spec: ImapSpec) -> list[str]:
        await session.send(b"c1 CAPABILITY\r\n")
        status, text, untagged = await read_imap_tagged(session, "c1", "the CAPABILITY reply")
        if status != "OK":
            raise refused(session, "CAPABILITY", f"{status} {text}")
        for line in untagged:
            if line.upper().startswith("CAPABILITY "):
                return line.split()[1:]
        return []

    async def request_tls(self, session: StreamSession, spec: ImapSpec, offered: list[str]) -> None:
        if "STARTTLS" not in (item.upper() for item in offered):
            raise not_offered(session, "IMAP", "STARTTLS")
        await session.send(b"s1 STARTTLS\r\n")
        status, text, _ = await read_imap_tagged(session, "s1", "the STARTTLS reply")
        if status != "OK":
            raise refused(session, "STARTTLS", f"{status} {text}")

    async def login(self, session: StreamSession, spec: ImapSpec, offered: list[str]) -> None:
        if "LOGINDISABLED" in (item.upper() for item in offered):
            raise not_offered(session, "IMAP", "LOGIN (LOGINDISABLED; use tls)")
        user, password = _quoted(spec.username or ""), _quoted(spec.password or "")
        await session.send(f"l1 LOGIN {user} {password}\r\n".encode())
        status, text, _ = await read_imap_tagged(session, "l1", "the LOGIN reply")
        if status != "OK":
            raise refused(session, f"login as {spec.username}", f"{status} {text}")

    def goodbye(self) -> bytes:
        return b"q1 LOGOUT\r\n"


def create_executor(resources: SharedResources) -> ImapExecutor:
    """Registry factory: IMAP probes need no shared resources."""
    return ImapExecutor()
