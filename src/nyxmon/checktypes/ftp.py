"""The ``ftp`` check type's parameters: greeting, FEAT, AUTH TLS and an optional login
(the probe: :mod:`nyxmon.probes.ftp`)."""

from __future__ import annotations

from nyxmon.checktypes.base import CheckType
from nyxmon.checktypes.connection import MailServerSpec

__all__ = ["FTP", "FtpSpec"]


class FtpSpec(MailServerSpec):
    """Params of an ``ftp`` check."""


FTP = CheckType(
    name="ftp",
    params=FtpSpec,
    observes=frozenset({"CONNECTED", "RESPONSE_TIME", "BODY", "IP", "CERTIFICATE_EXPIRATION"}),
    executor="nyxmon.probes.ftp:create_executor",
    summary="an FTP server: banner, FEAT, AUTH TLS, optional USER/PASS login",
)
