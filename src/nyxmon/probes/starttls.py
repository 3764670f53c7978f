"""The plaintext dialogues that come before STARTTLS, per protocol, for ``tcp`` and ``tls``.

Each reads the greeting, asks for TLS the protocol's way and returns the greeting, leaving the
connection ready for the handshake: SMTP ``EHLO`` + ``STARTTLS`` (220), IMAP ``STARTTLS``
(tagged OK), POP3 ``STLS`` (+OK), FTP ``AUTH TLS`` (234) and PostgreSQL's SSLRequest (``S``).
A server that refuses is a FAIL naming the protocol and quoting its answer.
"""

from __future__ import annotations

from nyxmon.domain.model import Outcome
from nyxmon.probes.replies import quote, read_code_reply, read_imap_tagged, read_pop3_reply
from nyxmon.probes.stream_session import SessionFailure, StreamSession

__all__ = ["POSTGRES_SSL_REQUEST", "prepare_starttls"]

#: Length 8, code 80877103: "please speak TLS" in PostgreSQL's wire protocol.
POSTGRES_SSL_REQUEST = b"\x00\x00\x00\x08\x04\xd2\x16\x2f"


def _refused(session: StreamSession, protocol: str, answer: str) -> SessionFailure:
    return SessionFailure(
        Outcome.FAIL, f"{session.target} refused STARTTLS ({protocol}): {quote(answer)}"
    )


async def prepare_starttls(session: StreamSession, protocol: str, helo_name: str) -> str:
    """Run ``protocol``'s upgrade request; the greeting it read (empty for PostgreSQL)."""
    if protocol == "postgres":
        await session.send(POSTGRES_SSL_REQUEST)
        answer = await session.read_until(1, lambda data: len(data) >= 1)
        if answer != b"S":
            raise _refused(session, protocol, "N" if answer == b"N" else answer.hex() or "EOF")
        return ""
    if protocol in ("smtp", "ftp"):
        greeting = await read_code_reply(session, "the banner", protocol.upper())
        if greeting.code != 220:
            raise _refused(session, protocol, f"{greeting.code} {greeting.text}")
        if protocol == "smtp":
            await session.send(f"EHLO {helo_name}\r\n".encode())
            ehlo = await read_code_reply(session, "the EHLO reply", "SMTP")
            if ehlo.code != 250:
                raise _refused(session, protocol, f"EHLO: {ehlo.code} {ehlo.text}")
            await session.send(b"STARTTLS\r\n")
            wanted = 220
        else:
            await session.send(b"AUTH TLS\r\n")
            wanted = 234
        reply = await read_code_reply(session, "the STARTTLS reply", protocol.upper())
        if reply.code != wanted:
            raise _refused(session, protocol, f"{reply.code} {reply.text}")
        return greeting.text
    if protocol == "pop3":
        ok, banner = await read_pop3_reply(session, "the banner")
        if not ok:
            raise _refused(session, protocol, f"-ERR {banner}")
        await session.send(b"STLS\r\n")
        ok, text = await read_pop3_reply(session, "the STLS reply")
        if not ok:
            raise _refused(session, protocol, f"-ERR {text}")
        return banner
    if protocol == "imap":
        raw = await session.read_line("the banner")
        if not raw.startswith(b"* OK"):
            raise _refused(session, protocol, raw.decode("utf-8", "replace"))
        await session.send(b"s1 STARTTLS\r\n")
        status, text, _ = await read_imap_tagged(session, "s1", "the STARTTLS reply")
        if status != "OK":
            raise _refused(session, protocol, f"{status} {text}")
        return raw[5:].decode("utf-8", "replace")
    raise ValueError(f"no STARTTLS dialogue for {protocol!r}")
