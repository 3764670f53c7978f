"""Parameters the connection-based check types share: where to connect and how to use TLS.

``tcp``, ``tls``, ``smtp``, ``imap``, ``pop3``, ``ftp`` and ``ssh`` all dial ``host:port``; most
may speak TLS, either at once (``implicit``) or after the protocol's own upgrade command
(``starttls``). The field types here carry their descriptions, so every type's form and schema
say the same thing about the same setting, and :func:`tls_problem` holds the one cross-key rule.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

__all__ = [
    "CaFile",
    "Host",
    "Port",
    "ServerName",
    "StartTlsProtocol",
    "TlsMode",
    "VerifyTls",
    "tls_problem",
]

_NAME_RE = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]{0,252})$")


def _host(value: str) -> str:
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if not _NAME_RE.match(text) or ".." in text:
        raise ValueError(f"{value!r} is not a host name or an IP address")
    return text.rstrip(".").lower()


Host = Annotated[
    str,
    Field(description="host name or IP address to connect to"),
    AfterValidator(_host),
]
Port = Annotated[int, Field(ge=1, le=65_535)]
VerifyTls = Annotated[bool, Field(description="verify the server certificate chain and host name")]
CaFile = Annotated[
    str | None, Field(description="PEM file of CAs to trust instead of the system's")
]
ServerName = Annotated[
    str | None,
    Field(
        description="TLS server name (SNI) and the name the certificate must carry; default: host"
    ),
]
TlsMode = Literal["none", "implicit", "starttls"]
StartTlsProtocol = Literal["smtp", "imap", "pop3", "ftp", "postgres"]


def tls_problem(*, uses_tls: bool, verify_tls: bool, ca_file: str | None) -> str | None:
    """Why the TLS settings contradict each other, or None."""
    if ca_file is not None and not verify_tls:
        return "ca_file has no effect with verify_tls: false"
    if ca_file is not None and not uses_tls:
        return "ca_file has no effect without TLS"
    return None
