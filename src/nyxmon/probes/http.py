"""The ``http`` check type: one HTTP(S) request, judged by status, keywords and conditions.

A run passes when the status is expected, the keywords are (or are not) in the body and every
condition holds. Without ``expected_status`` the status must be 200-399, unless a condition
reads ``[STATUS]`` itself, in which case the conditions alone decide. A passing run slower than
``max_response_time`` is marked degraded. Each run opens a fresh connection unless
``keep_alive`` is set, so DNS, connect and TLS are part of every measurement.

With ``retries``, a request that could not connect or got one of ``retry_status_codes`` is tried
again within the same run (after ``retry_backoff``, doubling, never past the timeout): still one
result, whose details and message say how many ``attempts`` it took. This is distinct from the
alert policy's ``retries``, which count whole runs.

The request goes through libcurl (:mod:`nyxmon.probes.http_client`), one hop per redirect
(:mod:`nyxmon.probes.http_exchange`); response times are libcurl's, measured from the first
request's start to the final body's end, so they leave out the agent's own scheduling delays.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import functools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit

from nyxmon.checktypes.http import BasicAuth, HttpSpec
from nyxmon.checktypes.secrets import mask_url_secrets
from nyxmon.domain.conditions import Condition, Observation, evaluate_all
from nyxmon.domain.model import Outcome, Result
from nyxmon.probes.base import PreparedCheck, ProbeExecutor, ProbeRun
from nyxmon.probes.http_client import HttpClients
from nyxmon.probes.http_exchange import Exchange, HttpRequest
from nyxmon.probes.http_failures import Failure
from nyxmon.probes.rdap import RdapError, RdapLookup
from nyxmon.probes.registry import SharedResources

__all__ = ["TYPE_NAME", "HttpExecutor", "create_executor", "http_request"]

TYPE_NAME = "http"

_DEFAULT_STATUS = ((200, 399),)
_PLAN_LIMIT = 100_000


def _describe_ranges(ranges: tuple[tuple[int, int], ...]) -> str:
    return ", ".join(str(low) if low == high else f"{low}-{high}" for low, high in ranges)


def _basic_auth(auth: BasicAuth) -> str:
    token = base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode("ascii")
    return f"Basic {token}"


def http_request(spec: HttpSpec, default_headers: Mapping[str, str] = {}) -> HttpRequest:
    """The libcurl request of a check: its headers plus each default it does not set (in any
    case), its auth as an ``Authorization`` header and its body with a content type."""
    headers = dict(spec.headers)
    taken = {name.lower() for name in headers}
    for name, value in default_headers.items():
        if name.lower() not in taken:
            headers[name] = value
    if spec.bearer_token is not None:
        headers["Authorization"] = f"Bearer {spec.bearer_token}"
    elif spec.basic_auth is not None:
        headers["Authorization"] = _basic_auth(spec.basic_auth)
    body: bytes | None = None
    body_type = "text/plain; charset=utf-8"
    if spec.json_body is not None:
        body, body_type = json.dumps(spec.json_body).encode(), "application/json"
    elif spec.body is not None:
        body = spec.body.encode()
    return HttpRequest(
        url=spec.url,
        method=spec.method,
        # libcurl drops a header given as "Name:"; "Name;" is how it sends an empty one.
        headers=tuple(f"{n}: {v}" if v else f"{n};" for n, v in headers.items()),
        body=body,
        body_type=body_type,
        sets_content_type="content-type" in {name.lower() for name in headers},
        keep_alive=spec.keep_alive,
        verify_tls=spec.verify_tls,
        ca_file=spec.ca_file,
        max_body_bytes=spec.max_body_bytes,
        follow_redirects=spec.follow_redirects,
        max_redirects=spec.max_redirects,
    )


@dataclass(frozen=True, slots=True)
class _Plan:
    """What a check's runs share, worked out once: its request and how to judge the answer."""

    prepared: PreparedCheck[HttpSpec]
    request: HttpRequest
    status_ranges: tuple[tuple[int, int], ...] | None
    reads_headers: bool
    #: The URL's host when a condition reads [DOMAIN_EXPIRATION] (an RDAP lookup), else "".
    domain: str


class HttpExecutor(ProbeExecutor[HttpSpec]):
    """Runs ``http`` checks over the shared :class:`HttpClients` curl bridge."""

    type_name: ClassVar[str] = TYPE_NAME
    spec_model = HttpSpec
    default_headers: ClassVar[dict[str, str]] = {}

    def __init__(self, clients: HttpClients, rdap: Callable[[], RdapLookup] = RdapLookup) -> None:
        super().__init__()
        self._clients = clients
        # made on the first [DOMAIN_EXPIRATION] lookup (no client before), then kept
        self._rdap = functools.cache(rdap)
        self._plans: dict[str, _Plan] = {}

    def _plan(self, check_id: str, prepared: PreparedCheck[HttpSpec]) -> _Plan:
        plan = self._plans.get(check_id)
        if plan is None or plan.prepared is not prepared:
            spec, conditions = prepared.spec, prepared.conditions
            ranges = spec.status_ranges()
            if ranges is None and not any(c.uses("STATUS") for c in conditions):
                ranges = _DEFAULT_STATUS
            plan = _Plan(
                prepared,
                http_request(spec, self.default_headers),
                ranges,
                any(c.uses("HEADERS") for c in conditions),
                _domain_to_watch(spec, conditions),
            )
            if len(self._plans) >= _PLAN_LIMIT:
                self._plans.clear()
            self._plans[check_id] = plan
        return plan

    async def probe(self, run: ProbeRun, prepared: PreparedCheck[HttpSpec]) -> Result:
        plan = self._plan(run.check.id, prepared)
        spec = prepared.spec
        deadline = run.start + run.check.timeout
        attempt = 0
        while True:
            attempt += 1
            exchange = Exchange(plan.request, run.check.timeout)
            run.context = exchange
            failure = await exchange.run(self._clients, deadline)
            if attempt > spec.retries:
                break
            reason = _retry_reason(spec, exchange, failure)
            wait = spec.retry_backoff * 2 ** (attempt - 1)
            if reason is None or time.perf_counter() + wait >= deadline:
                break
            run.details.setdefault("retried", []).append(reason)
            await asyncio.sleep(wait)
        if spec.retries:
            run.details["attempts"] = attempt
        if plan.domain and failure is None:
            await self._look_up_domain(run, plan.domain, deadline)
        result = self._outcome(run, plan, exchange, failure)
        if attempt > 1:
            return dataclasses.replace(result, message=f"{result.message} (attempt {attempt})")
        return result

    async def _look_up_domain(self, run: ProbeRun, domain: str, deadline: float) -> None:
        """Put the domain's expiration (or why it is unknown) in ``run.details`` for
        :meth:`_judge`; the lookup gets what is left of the check's timeout."""
        left = deadline - time.perf_counter()
        try:
            if left <= 0:
                raise RdapError("no time left for the RDAP lookup")
            expires = await asyncio.wait_for(self._rdap().expiration(domain), left)
        except RdapError as exc:
            run.details["domain_expiration_error"] = str(exc)
        except TimeoutError:
            run.details["domain_expiration_error"] = "the RDAP lookup did not finish in time"
        else:
            run.details["domain_expires_at"] = expires
            run.details["domain_days_left"] = round((expires - time.time()) / 86_400, 2)

    def _outcome(
        self, run: ProbeRun, plan: _Plan, exchange: Exchange, failure: Failure | None
    ) -> Result:
        if failure is not None:
            run.timings.update(exchange.phases())
            if exchange.redirects:
                run.details["redirects"] = exchange.redirects
            return run.finish(failure.outcome, failure.message)
        return self._judge(run, plan, exchange)

    def _judge(self, run: ProbeRun, plan: _Plan, exchange: Exchange) -> Result:
        spec = plan.prepared.spec
        hop = exchange.hops[-1]
        body = bytes(exchange.body.data)
        truncated = exchange.body.truncated
        total = exchange.total()
        timings = run.timings
        timings.update(exchange.phases())
        timings["total"] = total
        size = exchange.content_length if truncated and exchange.content_length > 0 else len(body)
        details = run.details
        details["status"] = hop.status
        details["size"] = size
        details["url"] = mask_url_secrets(exchange.url)  # results are shown to every reader
        if exchange.redirects:
            details["redirects"] = exchange.redirects
        if exchange.ip:
            details["ip"] = exchange.ip
        if truncated:
            details["truncated"] = True
        if exchange.connections() < len(exchange.hops):  # a hop went over a kept connection
            details["reused_connection"] = True
        cert_left: float | None = None
        if exchange.cert_not_after is not None:
            cert_left = exchange.cert_not_after - time.time()
            details["cert_expires_at"] = exchange.cert_not_after
            details["cert_days_left"] = round(cert_left / 86_400, 2)
        start = hop.status_line()
        observation = Observation(
            status=hop.status,
            body=body,
            headers=_headers(hop.lines, start) if plan.reads_headers else None,
            response_time_ms=total * 1000,
            connected=True,
            certificate_expiration=cert_left,
            ips=(exchange.ip,) if exchange.ip else (),
            body_size=size,
        )
        if plan.domain:
            expires = details.get("domain_expires_at")
            if expires is not None:
                observation.domain_expiration = expires - time.time()
            else:
                observation.domain_expiration_error = str(
                    details.get("domain_expiration_error", "domain expiration not looked up")
                )
        conditions = plan.prepared.conditions
        problems = self._problems(spec, conditions, observation, hop.status, plan.status_ranges)
        outcomes = evaluate_all(conditions, observation)
        failed = [outcome.description for outcome in outcomes if not outcome.ok]
        if failed:
            details["failed_conditions"] = failed
            problems.extend(failed)
        if problems:
            return run.finish(Outcome.FAIL, "; ".join(problems))
        reason = _reason(hop.lines[start]) if start >= 0 else ""
        message = f"{hop.status} {reason}".rstrip()
        message = f"{message} in {total * 1000:.0f} ms"
        degrading = self._degrading(run.check.id, plan.prepared, observation)
        if degrading:
            details["degraded_conditions"] = degrading
            return run.finish(
                Outcome.OK, f"{message}, degraded: {'; '.join(degrading)}", degraded=True
            )
        if spec.max_response_time is not None and total > spec.max_response_time:
            return run.finish(
                Outcome.OK,
                f"{message}, slower than {spec.max_response_time * 1000:.0f} ms",
                degraded=True,
            )
        return run.finish(Outcome.OK, message)

    def _problems(
        self,
        spec: HttpSpec,
        conditions: tuple[Condition, ...],
        observation: Observation,
        status: int,
        ranges: tuple[tuple[int, int], ...] | None,
    ) -> list[str]:
        """Reasons the response fails the status and keyword rules, before conditions."""
        problems = []
        if ranges is not None and not any(low <= status <= high for low, high in ranges):
            problems.append(f"status {status} not in {_describe_ranges(ranges)}")
        if spec.keyword is not None or spec.keyword_absent is not None:
            text = observation.text() or ""
            if not spec.keyword_case_sensitive:
                text = text.lower()
            for keyword, wanted in ((spec.keyword, True), (spec.keyword_absent, False)):
                if keyword is None:
                    continue
                needle = keyword if spec.keyword_case_sensitive else keyword.lower()
                if (needle in text) is not wanted:
                    where = "not found in" if wanted else "found in"
                    problems.append(f"keyword {keyword!r} {where} the body")
        return problems

    def _degrading(
        self, check_id: str, prepared: PreparedCheck[HttpSpec], observation: Observation
    ) -> list[str]:
        """Failed rules that make a passing run degraded rather than failed (none for http)."""
        return []

    def on_timeout(self, run: ProbeRun) -> str:
        exchange = run.context
        if isinstance(exchange, Exchange):
            run.timings.update(exchange.phases())
            return exchange.timeout_message()
        return super().on_timeout(run)

    async def aclose(self) -> None:
        self._plans.clear()
        await super().aclose()


def _retry_reason(spec: HttpSpec, exchange: Exchange, failure: Failure | None) -> str | None:
    """Why an attempt deserves another within the run (None: it does not): it could not get
    an answer (refused, reset, TLS), or its status is one of ``retry_status_codes``."""
    if failure is not None:
        return failure.message if failure.outcome is Outcome.ERROR else None
    status = exchange.hops[-1].status if exchange.hops else 0
    return f"status {status}" if status in spec.retry_status_codes else None


def _reason(status_line: bytes) -> str:
    parts = status_line.split(None, 2)
    return parts[2].strip().decode("latin-1") if len(parts) > 2 else ""


def _headers(lines: list[bytes], start: int) -> dict[str, str]:
    """The final response's headers by lower-case name (the first of repeated ones)."""
    headers: dict[str, str] = {}
    for line in lines[start + 1 :] if start >= 0 else ():
        if not line.strip():
            break  # the end of the headers; trailers may follow the body
        name, colon, value = line.partition(b":")
        if colon:
            headers.setdefault(
                name.strip().decode("latin-1").lower(), value.strip().decode("latin-1")
            )
    return headers


def _domain_to_watch(spec: HttpSpec, conditions: tuple[Condition, ...]) -> str:
    """The URL's host when a condition (or a json degraded rule) reads [DOMAIN_EXPIRATION]."""
    degraded = getattr(spec, "degraded_conditions", ())
    if not any(c.uses("DOMAIN_EXPIRATION") for c in conditions) and not any(
        "DOMAIN_EXPIRATION" in text.upper() for text in degraded
    ):
        return ""
    return urlsplit(spec.url).hostname or ""


def create_executor(resources: SharedResources) -> HttpExecutor:
    """Registry factory: an HTTP executor on the registry's shared curl bridge."""
    return HttpExecutor(
        resources.get("http", HttpClients), lambda: resources.get("rdap", RdapLookup)
    )
