"""Which provider serves which kind of route, and building them from the config's routes.

One module per provider; each registers its factory here under the route ``kind`` it serves
(a test checks that every provider module is registered). A provider's module, and the library
it wraps (Apprise loads ~5 MB of plugins; aiohttp, behind webhook and telegram, takes half a
second to import), is imported only when a route of its kind is built: an agent without
Apprise routes never holds Apprise, and the CLI starts without aiohttp.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from nyxmon.domain.alerting.types import Route
from nyxmon.errors import NotificationError
from nyxmon.notify.base import Provider
from nyxmon.runtime import OffloadPool

__all__ = ["PROVIDERS", "ProviderContext", "ProviderFactory", "build_providers", "provider_for"]


@dataclass(frozen=True, slots=True)
class ProviderContext:
    """What providers may need besides their route: the pool for blocking senders, timeouts."""

    pool: OffloadPool
    webhook_timeout: float = 10.0
    telegram_timeout: float = 10.0
    apprise_timeout: float = 60.0
    clock: Callable[[], float] = field(default=time.time)


ProviderFactory = Callable[[Route, ProviderContext], Provider]


def _apprise(route: Route, context: ProviderContext) -> Provider:
    from nyxmon.notify.apprise_provider import AppriseProvider

    return AppriseProvider(route, context.pool, timeout=context.apprise_timeout)


def _webhook(route: Route, context: ProviderContext) -> Provider:
    from nyxmon.notify.webhook import WebhookProvider

    return WebhookProvider(route, timeout=context.webhook_timeout, clock=context.clock)


def _telegram(route: Route, context: ProviderContext) -> Provider:
    from nyxmon.notify.telegram import TelegramProvider

    return TelegramProvider(route, timeout=context.telegram_timeout)


PROVIDERS: Mapping[str, ProviderFactory] = MappingProxyType(
    {"apprise": _apprise, "telegram": _telegram, "webhook": _webhook}
)


def provider_for(route: Route, context: ProviderContext) -> Provider:
    """The provider for ``route``; :class:`NotificationError` names a bad route."""
    factory = PROVIDERS.get(route.kind)
    if factory is None:
        raise NotificationError(
            f"route {route.name!r}: unknown kind {route.kind!r}; known kinds: "
            + ", ".join(sorted(PROVIDERS))
        )
    return factory(route, context)


def build_providers(routes: Iterable[Route], context: ProviderContext) -> dict[str, Provider]:
    """A provider per route, by route name; route names must be unique."""
    providers: dict[str, Provider] = {}
    for route in routes:
        if route.name in providers:
            raise NotificationError(f"route {route.name!r} is defined twice")
        providers[route.name] = provider_for(route, context)
    return providers
