"""``[DOMAIN_EXPIRATION]``: when a domain's registration ends, asked of RDAP (RFC 9082/9083).

Gatus reads the same placeholder from WHOIS; RDAP is WHOIS's JSON successor and every gTLD
registry serves it. The server for a domain comes from IANA's bootstrap file
(``https://data.iana.org/rdap/dns.json``: TLDs -> RDAP base URLs), or from ``agent.rdap_url``
when set (one server for every domain: a registrar's, a company's, a test's). The domain asked
for is the check's host name, then, while the server says 404, the same with its first label
removed (``www.example.co.uk`` -> ``example.co.uk``), so no public-suffix list is needed.

A registration changes rarely and registries rate-limit, so answers are kept for six hours per
domain (a failure for five minutes) and the bootstrap file for a day; lookups of the same domain
at the same time share one request. The answer is the ``expiration`` event's date (RFC 9083
section 4.5), as epoch seconds.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # aiohttp is imported with the first lookup: most agents never make one
    import aiohttp

__all__ = ["IANA_BOOTSTRAP", "RdapError", "RdapLookup"]

IANA_BOOTSTRAP = "https://data.iana.org/rdap/dns.json"
_ANSWER_TTL = 6 * 3600.0
_FAILURE_TTL = 300.0
_BOOTSTRAP_TTL = 24 * 3600.0
_MAX_DOCUMENT = 1_048_576
_TIMEOUT = 10.0


class RdapError(Exception):
    """The expiration could not be learned; the message says why (shown in the condition)."""


@dataclass(slots=True)
class _Cached:
    value: float | None
    error: str
    until: float


class RdapLookup:
    """Domain expirations from RDAP, cached; one instance is shared by the HTTP probes."""

    def __init__(self, base_url: str | None = None, bootstrap_url: str = IANA_BOOTSTRAP) -> None:
        self.base_url = base_url.rstrip("/") if base_url else None
        self.bootstrap_url = bootstrap_url
        self._session: aiohttp.ClientSession | None = None
        self._answers: dict[str, _Cached] = {}
        self._pending: dict[str, asyncio.Future[float]] = {}
        self._bootstrap: tuple[dict[str, str], float] | None = None

    async def expiration(self, host: str) -> float:
        """Epoch seconds at which ``host``'s domain registration expires; :class:`RdapError`."""
        domain = host.strip().rstrip(".").lower()
        if not domain or "." not in domain or domain.replace(".", "").isdigit() or ":" in domain:
            raise RdapError(f"{host!r} is not a domain name")
        now = time.monotonic()
        cached = self._answers.get(domain)
        if cached is not None and cached.until > now:
            if cached.value is None:
                raise RdapError(cached.error)
            return cached.value
        pending = self._pending.get(domain)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._pending[domain] = future
        try:
            value = await self._look_up(domain)
        except RdapError as exc:
            self._answers[domain] = _Cached(None, str(exc), time.monotonic() + _FAILURE_TTL)
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it through shield
            raise
        finally:
            self._pending.pop(domain, None)
        self._answers[domain] = _Cached(value, "", time.monotonic() + _ANSWER_TTL)
        future.set_result(value)
        return value

    async def _look_up(self, domain: str) -> float:
        labels = domain.split(".")
        for start in range(len(labels) - 1):
            name = ".".join(labels[start:])
            base = self.base_url or await self._server_for(name)
            status, document = await self._get(f"{base}/domain/{name}")
            if status == 404:
                continue
            if status != 200:
                raise RdapError(f"RDAP server answered {status} for {name}")
            return _expiration_of(document, name)
        raise RdapError(f"no RDAP registration found for {domain}")

    async def _server_for(self, name: str) -> str:
        services = await self._services()
        labels = name.split(".")
        for start in range(len(labels)):
            url = services.get(".".join(labels[start:]))
            if url:
                return url.rstrip("/")
        raise RdapError(f"no RDAP server for .{labels[-1]} in the bootstrap file")

    async def _services(self) -> dict[str, str]:
        if self._bootstrap is not None and self._bootstrap[1] > time.monotonic():
            return self._bootstrap[0]
        status, document = await self._get(self.bootstrap_url)
        if status != 200:
            raise RdapError(f"RDAP bootstrap {self.bootstrap_url} answered {status}")
        services: dict[str, str] = {}
        try:
            for tlds, urls in document["services"]:
                chosen = next((u for u in urls if u.startswith("https://")), urls[0])
                for tld in tlds:
                    services[str(tld).lower()] = str(chosen)
        except (KeyError, TypeError, ValueError, IndexError):
            raise RdapError(f"{self.bootstrap_url} is not an RDAP bootstrap file") from None
        self._bootstrap = (services, time.monotonic() + _BOOTSTRAP_TTL)
        return services

    async def _get(self, url: str) -> tuple[int, Any]:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=_TIMEOUT),
                headers={"Accept": "application/rdap+json, application/json"},
            )
        try:
            async with self._session.get(url) as response:
                if response.status != 200:
                    return response.status, None
                raw = await response.content.read(_MAX_DOCUMENT + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RdapError(f"RDAP request to {url} failed: {exc or type(exc).__name__}") from None
        if len(raw) > _MAX_DOCUMENT:
            raise RdapError(f"RDAP answer from {url} is larger than 1 MiB")
        try:
            return 200, json.loads(raw)
        except ValueError:
            raise RdapError(f"RDAP answer from {url} is not JSON") from None

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _expiration_of(document: Any, name: str) -> float:
    events = document.get("events") if isinstance(document, dict) else None
    for event in events or []:
        if isinstance(event, dict) and event.get("eventAction") == "expiration":
            text = str(event.get("eventDate", ""))
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise RdapError(f"RDAP expiration date {text!r} of {name} is not a date") from None
            if moment.tzinfo is None:
                raise RdapError(f"RDAP expiration date {text!r} of {name} has no time zone")
            return moment.timestamp()
    raise RdapError(f"the RDAP record of {name} has no expiration event")
