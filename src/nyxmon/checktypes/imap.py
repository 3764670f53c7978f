"""The ``imap`` check type's parameters: greeting, CAPABILITY, STARTTLS and an optional login
(the probe: :mod:`nyxmon.probes.imap`)."""

from __future__ import annotations

from nyxmon.checktypes.base import CheckType
from nyxmon.checktypes.connection import MailServerSpec

__all__ = ["IMAP", "ImapSpec"]


class ImapSpec(MailServerSpec):
    """Params of an ``imap`` check."""


IMAP = CheckType(
    name="imap",
    params=ImapSpec,
    observes=frozenset({"CONNECTED", "RESPONSE_TIME", "BODY", "IP", "CERTIFICATE_EXPIRATION"}),
    executor="nyxmon.probes.imap:create_executor",
    summary="an IMAP server: greeting, CAPABILITY, STARTTLS, optional LOGIN",
)
