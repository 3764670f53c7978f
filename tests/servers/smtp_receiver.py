"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records the messages it receives.

``with SmtpReceiver(username="nyx", password="mon") as smtp`` runs it in a thread of its own
(aiosmtpd's Controller); ``smtp.messages`` holds every message as an ``email.message.Message``
with its envelope. With a username the server offers AUTH PLAIN/LOGIN without TLS (loopback
only) and checks the credentials: ``smtp.logins`` lists the accepted logins and
``smtp.rejected_logins`` counts bad ones. AUTH is offered, not required, because aiosmtpd warns
about requiring it without TLS (and pytest turns warnings into errors). With ``tls_context``
it offers STARTTLS.
"""

from __future__ import annotations

import email
import email.message
import socket
import ssl
import threading
import warnings
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

__all__ = ["ReceivedMail", "SmtpReceiver"]


@dataclass(frozen=True)
class ReceivedMail:
    sender: str
    recipients: tuple[str, ...]
    message: email.message.Message

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    def text(self) -> str:
        """The plain-text body (the first text part of a multipart message)."""
        for part in self.message.walk():
            if part.get_content_type() == "text/plain":
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes):
                    charset = part.get_content_charset() or "utf-8"
                    return payload.decode(charset, errors="replace")
        return ""


@dataclass
class _Handler:
    messages: list[ReceivedMail] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode()
        mail = ReceivedMail(
            sender=str(envelope.mail_from),
            recipients=tuple(envelope.rcpt_tos),
            message=email.message_from_bytes(data),
        )
        with self.arrived:
            self.messages.append(mail)
            self.arrived.notify_all()
        return "250 Message accepted for delivery"


def _free_port() -> int:
    # aiosmtpd's Controller needs a concrete port (it connects to it to confirm start-up).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpReceiver:
    """An aiosmtpd server in a thread; a context manager."""

    def __init__(
        self,
        *,
        username: str | None = None,
        password: str | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.username = username
        self.password = password
        self.rejected_logins = 0
        self.logins: list[str] = []
        self._handler = _Handler()
        kwargs: dict[str, Any] = {}
        if username is not None:
            kwargs = {
                "authenticator": self._authenticate,
                "auth_require_tls": False,
            }
        if tls_context is not None:  # offered as STARTTLS, not required
            kwargs["tls_context"] = tls_context
        self._controller = Controller(self._handler, hostname=self.host, port=self.port, **kwargs)

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._handler.arrived:
            return list(self._handler.messages)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[ReceivedMail]:
        """Block until ``count`` messages arrived (or ``timeout``); returns what arrived."""
        with self._handler.arrived:
            self._handler.arrived.wait_for(lambda: len(self._handler.messages) >= count, timeout)
            return list(self._handler.messages)

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if (
            isinstance(data, LoginPassword)
            and data.login.decode() == self.username
            and data.password.decode() == self.password
        ):
            self.logins.append(self.username)
            return AuthResult(success=True)
        self.rejected_logins += 1
        return AuthResult(success=False, handled=False)

    def start(self) -> SmtpReceiver:
        # aiosmtpd itself sets the deprecated Session.login_data on every successful AUTH.
        warnings.filterwarnings(
            "ignore", message="Session.login_data is deprecated", category=DeprecationWarning
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
