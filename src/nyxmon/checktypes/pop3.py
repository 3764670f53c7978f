"""The ``pop3`` check type's parameters: greeting, CAPA, STLS and an optional login
(the probe: :mod:`nyxmon.probes.pop3`)."""

from __future__ import annotations

from nyxmon.checktypes.base import CheckType
from nyxmon.checktypes.connection import MailServerSpec

__all__ = ["POP3", "Pop3Spec"]


class Pop3Spec(MailServerSpec):
    """Params of a ``pop3`` check."""


POP3 = CheckType(
    name="pop3",
    params=Pop3Spec,
    observes=frozenset({"CONNECTED", "RESPONSE_TIME", "BODY", "IP", "CERTIFICATE_EXPIRATION"}),
    executor="nyxmon.probes.pop3:create_executor",
    summary="a POP3 server: greeting, CAPA, STLS, optional USER/PASS login",
)
