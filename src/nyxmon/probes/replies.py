"""Reading the replies of the line protocols a probe talks to: SMTP and FTP (``250-...`` /
``250 ...``), POP3 (``+OK`` / ``-ERR``) and IMAP (untagged ``*`` lines, then the tagged one).

Each reader returns what the server said, or raises :class:`SessionFailure` with FAIL when the
server answered something that is not that protocol (a bad banner is the server's fault, not
the network's), quoting at most a line of it.
"""

from __future__ import annotations

from typing import NamedTuple

from nyxmon.domain.model import Outcome
from nyxmon.probes.stream_session import SessionFailure, StreamSession

__all__ = ["CodeReply", "quote", "read_code_reply", "read_imap_tagged", "read_pop3_reply"]

_QUOTED = 120
_MAX_LINES = 200


def quote(line: bytes | str) -> str:
    """A line of a peer's answer, decoded and shortened for a message."""
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
    text = text.strip()
    return repr(text if len(text) <= _QUOTED else text[: _QUOTED - 3] + "...")


class CodeReply(NamedTuple):
    """A numbered reply (SMTP, FTP): its code and the text of each of its lines (a named
    tuple: made several times a run, it costs a third of a frozen dataclass)."""

    code: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


async def read_code_reply(session: StreamSession, what: str, protocol: str) -> CodeReply:
    """An SMTP/FTP reply: ``NNN text``, or ``NNN-text`` then any lines up to ``NNN text``
    (FTP's continuation lines need not repeat the code, RFC 959 section 4.2)."""
    raw = await session.read_line(what)
    head = raw[:3]
    if len(raw) < 3 or not head.isdigit() or raw[3:4] not in (b"-", b" ", b""):
        raise SessionFailure(
            Outcome.FAIL, f"{what} from {session.target} is not {protocol}: {quote(raw)}"
        )
    code = int(head)
    lines = [raw[4:].decode("utf-8", "replace")]
    if raw[3:4] != b"-":
        return CodeReply(code, tuple(lines))
    last = head + b" "
    more = head + b"-"
    while len(lines) < _MAX_LINES:
        # the reply's lines mostly come together: no coroutine for the ones already here
        here = session.line_nowait(what)
        raw = here if here is not None else await session.read_line(what)
        if raw.startswith(last) or raw == head:
            lines.append(raw[4:].decode("utf-8", "replace"))
            return CodeReply(code, tuple(lines))
        text = raw[4:] if raw.startswith(more) else raw
        lines.append(text.decode("utf-8", "replace"))
    raise SessionFailure(Outcome.FAIL, f"{what} from {session.target} never ends")


async def read_pop3_reply(session: StreamSession, what: str) -> tuple[bool, str]:
    """A POP3 status line: (``+OK``?, its text)."""
    raw = await session.read_line(what)
    if raw.startswith(b"+OK"):
        return True, raw[3:].strip().decode("utf-8", "replace")
    if raw.startswith(b"-ERR"):
        return False, raw[4:].strip().decode("utf-8", "replace")
    raise SessionFailure(Outcome.FAIL, f"{what} from {session.target} is not POP3: {quote(raw)}")


async def read_imap_tagged(
    session: StreamSession, tag: str, what: str
) -> tuple[str, str, list[str]]:
    """Lines up to the one tagged ``tag``: (``OK``/``NO``/``BAD``, its text, untagged lines)."""
    untagged: list[str] = []
    prefix = f"{tag} ".encode()
    while len(untagged) < _MAX_LINES:
        here = session.line_nowait(what)
        raw = here if here is not None else await session.read_line(what)
        if raw.startswith(prefix):
            status, _, text = raw[len(prefix) :].decode("utf-8", "replace").partition(" ")
            if status.upper() not in ("OK", "NO", "BAD"):
                break
            return status.upper(), text, untagged
        if not raw.startswith(b"* ") and not raw.startswith(b"+"):
            raise SessionFailure(
                Outcome.FAIL, f"{what} from {session.target} is not IMAP: {quote(raw)}"
            )
        untagged.append(raw[2:].decode("utf-8", "replace"))
    raise SessionFailure(Outcome.FAIL, f"{what} from {session.target} is not IMAP")
