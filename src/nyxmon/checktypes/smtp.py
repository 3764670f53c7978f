"""The ``smtp`` check type's parameters: greeting, EHLO, STARTTLS and an optional login
(the probe: :mod:`nyxmon.probes.smtp`)."""

from __future__ import annotations

from pydantic import Field

from nyxmon.checktypes.base import CheckType
from nyxmon.checktypes.connection import MailServerSpec

__all__ = ["SMTP", "SmtpSpec"]


class SmtpSpec(MailServerSpec):
    """Params of an ``smtp`` check."""

    helo_name: str = Field(
        "localhost", pattern=r"^\S{1,255}$", description="the name sent with EHLO"
    )


SMTP = CheckType(
    name="smtp",
    params=SmtpSpec,
    observes=frozenset({"CONNECTED", "RESPONSE_TIME", "BODY", "IP", "CERTIFICATE_EXPIRATION"}),
    executor="nyxmon.probes.smtp:create_executor",
    summary="an SMTP server: banner, EHLO capabilities, STARTTLS, optional AUTH login",
)
