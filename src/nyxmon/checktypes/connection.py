"""Parameters the connection-based check types share: where to connect and how to use TLS.

``tcp``, ``tls``, ``smtp``, ``imap``, ``pop3``, ``ftp`` and ``ssh`` all dial ``host:port``; most
may speak TLS, either at once (``implicit``) or after the protocol's own upgrade command
(``starttls``). The field types here carry their descriptions, so every type's form and schema
say the same thing about the same setting, and :func:`tls_problem` holds the one cross-key rule.
:class:`ServerSpec` and :class:`MailServerSpec` are the common params of the protocol checks.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, field_validator, model_validator

from nyxmon.checktypes.base import SpecModel, password_field
from nyxmon.checktypes.durations import PositiveDuration

__all__ = [
    "CaFile",
    "Host",
    "MailServerSpec",
    "Port",
    "ServerName",
    "ServerSpec",
    "StartTlsProtocol",
    "TextSpecModel",
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


class TextSpecModel(SpecModel):
    """A spec whose text settings also take numbers as text: YAML and ``--set`` read
    ``expect: 220`` or a numeric password as a number, which a banner or a password is not."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class ServerSpec(TextSpecModel):
    """Params every protocol check (``smtp``, ``imap``, ``pop3``, ``ftp``, ``ssh``) has."""

    host: Host
    port: Port | None = Field(
        None, description="TCP port; default: the protocol's (with implicit TLS, its TLS port)"
    )
    expect_banner: str | None = Field(
        None, description="regular expression the server's greeting must match"
    )
    max_response_time: PositiveDuration | None = Field(
        None, description="a passing run slower than this is degraded: 500ms, 2s (or seconds)"
    )

    @field_validator("expect_banner")
    @classmethod
    def _check_banner_pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"{value!r} is not a regular expression: {exc}") from None
        return value


class MailServerSpec(ServerSpec):
    """A protocol check that may use TLS and log in (``smtp``, ``imap``, ``pop3``, ``ftp``)."""

    tls: TlsMode = Field(
        "none", description="none, starttls (upgrade after the greeting) or implicit (TLS port)"
    )
    verify_tls: VerifyTls = True
    ca_file: CaFile = None
    server_name: ServerName = None
    username: str | None = Field(None, description="log in as this user (optional)")
    password: str | None = password_field("password for the login (needs username)")

    @model_validator(mode="after")
    def _check_tls_and_login(self) -> MailServerSpec:
        uses_tls = self.tls != "none"
        if problem := tls_problem(
            uses_tls=uses_tls, verify_tls=self.verify_tls, ca_file=self.ca_file
        ):
            raise ValueError(problem)
        if self.server_name is not None and not uses_tls:
            raise ValueError("server_name has no effect with tls: none")
        if self.password is not None and self.username is None:
            raise ValueError("password needs a username")
        return self
