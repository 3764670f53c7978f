"""Small real servers on 127.0.0.1 for the connection probes: IMAP, POP3, FTP, SSH banners and a
plain banner/echo server, each with optional STARTTLS or implicit TLS and a login to accept.

They speak just enough of each protocol for a monitor (greeting, capabilities, STARTTLS, login,
logout), over real asyncio sockets. ``async with LineServer(...)`` runs one on the current loop;
``with LineServer(...).in_thread()`` runs it on a loop of its own (for the agent's tests).
``banner`` replaces the greeting (to test a bad one); ``silent`` accepts and says nothing.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal

__all__ = ["LineServer", "Protocol"]

Protocol = Literal["imap", "pop3", "ftp", "ssh", "banner", "echo"]

_GREETINGS = {
    "imap": b"* OK [CAPABILITY IMAP4rev1 STARTTLS] test IMAP ready\r\n",
    "pop3": b"+OK test POP3 ready\r\n",
    "ftp": b"220 test FTP ready\r\n",
    "ssh": b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
    "banner": b"220 hello from the banner server\r\n",
    "echo": b"",
}


@dataclass
class LineServer:
    protocol: Protocol
    tls_context: ssl.SSLContext | None = None
    implicit_tls: bool = False
    username: str | None = None
    password: str | None = None
    banner: bytes | None = None
    silent: bool = False
    host: str = "127.0.0.1"
    port: int = 0
    logins: list[str] = field(default_factory=list)
    rejected_logins: int = 0
    _server: asyncio.Server | None = None

    async def __aenter__(self) -> LineServer:
        ssl_arg = self.tls_context if self.implicit_tls else None
        self._server = await asyncio.start_server(self._serve, self.host, self.port, ssl=ssl_arg)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)

    @contextlib.contextmanager
    def in_thread(self) -> Iterator[LineServer]:
        """Run on a loop in a thread of its own until the block ends."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        stop = asyncio.Event()

        async def main() -> None:
            async with self:
                ready.set()
                await stop.wait()

        thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
        thread.start()
        ready.wait(10)
        try:
            yield self
        finally:
            loop.call_soon_threadsafe(stop.set)
            thread.join(10)
            loop.close()

    def _login_ok(self, user: str, password: str) -> bool:
        if user == self.username and password == self.password:
            self.logins.append(user)
            return True
        self.rejected_logins += 1
        return False

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self.silent:
                await reader.read()
                return
            greeting = _GREETINGS[self.protocol] if self.banner is None else self.banner
            writer.write(greeting)
            await writer.drain()
            handler = getattr(self, f"_{self.protocol}")
            await handler(reader, writer)
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _upgrade(self, writer: asyncio.StreamWriter) -> None:
        assert self.tls_context is not None
        await writer.start_tls(self.tls_context)

    async def _banner(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    async def _ssh(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    async def _echo(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(4096):
            writer.write(data)
            await writer.drain()

    async def _imap(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            tag, _, rest = line.decode().strip().partition(" ")
            command, _, args = rest.partition(" ")
            command = command.upper()
            if command == "CAPABILITY":
                caps = "IMAP4rev1 AUTH=PLAIN" + (" STARTTLS" if self.tls_context else "")
                writer.write(f"* CAPABILITY {caps}\r\n{tag} OK done\r\n".encode())
            elif command == "STARTTLS" and self.tls_context is not None:
                writer.write(f"{tag} OK begin TLS\r\n".encode())
                await writer.drain()
                await self._upgrade(writer)
            elif command == "LOGIN":
                user, _, password = args.partition(" ")
                ok = self._login_ok(user.strip('"'), password.strip('"'))
                status = "OK logged in" if ok else "NO [AUTHENTICATIONFAILED] bad credentials"
                writer.write(f"{tag} {status}\r\n".encode())
            elif command == "LOGOUT":
                writer.write(f"* BYE\r\n{tag} OK bye\r\n".encode())
                await writer.drain()
                return
            else:
                writer.write(f"{tag} BAD unknown command\r\n".encode())
            await writer.drain()

    async def _pop3(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        user = ""
        while line := await reader.readline():
            command, _, arg = line.decode().strip().partition(" ")
            command = command.upper()
            if command == "CAPA":
                caps = "USER\r\n" + ("STLS\r\n" if self.tls_context else "")
                writer.write(f"+OK\r\n{caps}.\r\n".encode())
            elif command == "STLS" and self.tls_context is not None:
                writer.write(b"+OK begin TLS\r\n")
                await writer.drain()
                await self._upgrade(writer)
            elif command == "USER":
                user = arg
                writer.write(b"+OK\r\n")
            elif command == "PASS":
                ok = self._login_ok(user, arg)
                writer.write(b"+OK logged in\r\n" if ok else b"-ERR [AUTH] bad credentials\r\n")
            elif command == "QUIT":
                writer.write(b"+OK bye\r\n")
                await writer.drain()
                return
            else:
                writer.write(b"-ERR unknown command\r\n")
            await writer.drain()

    async def _ftp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        user = ""
        while line := await reader.readline():
            command, _, arg = line.decode().strip().partition(" ")
            command = command.upper()
            if command == "AUTH" and arg.upper() == "TLS" and self.tls_context is not None:
                writer.write(b"234 begin TLS\r\n")
                await writer.drain()
                await self._upgrade(writer)
                continue
            if command == "FEAT":
                writer.write(b"211-Features:\r\n AUTH TLS\r\n UTF8\r\n211 End\r\n")
            elif command == "USER":
                user = arg
                writer.write(b"331 password please\r\n")
            elif command == "PASS":
                ok = self._login_ok(user, arg)
                writer.write(b"230 logged in\r\n" if ok else b"530 login incorrect\r\n")
            elif command == "QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                return
            else:
                writer.write(b"502 not implemented\r\n")
            await writer.drain()


def plain_auth(user: str, password: str) -> str:
    """SASL PLAIN's base64 token, as an SMTP client sends it."""
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()
