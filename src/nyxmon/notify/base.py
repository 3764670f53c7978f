"""The contract every notification provider implements, one module per provider.

A provider sends one rendered message for one route and answers with a
:class:`~nyxmon.notify.records.Delivery`; it never raises for a failed delivery (the delivery
engine still survives one that does). Providers run on the runtime's loop: blocking libraries
(Apprise, smtplib) go to an :class:`~nyxmon.runtime.OffloadPool`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from nyxmon.domain.alerting.types import Route
from nyxmon.notify.records import Delivery, OutgoingMessage

__all__ = ["Provider"]


@runtime_checkable
class Provider(Protocol):
    """Sends messages for one route."""

    @property
    def route(self) -> Route: ...

    async def send(self, message: OutgoingMessage) -> Delivery:
        """Deliver ``message`` once; say whether it arrived and whether trying again may help."""
        ...

    async def aclose(self) -> None:
        """Release connections; the provider is not used afterwards."""
        ...
