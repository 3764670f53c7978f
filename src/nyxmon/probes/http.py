"""The ``http`` check type: one HTTP(S) request, judged by status, keywords and conditions.

A run passes when the status is expected, the keywords are (or are not) in the body and every
condition holds. Without ``expected_status`` the status must be 200-399, unless a condition
reads ``[STATUS]`` itself, in which case the conditions alone decide. A passing run slower than
``max_response_time`` is marked degraded. Each run opens a fresh connection unless
``keep_alive`` is set, so DNS, connect and TLS are part of every measurement.
"""

from __future__ import annotations

import base64
import ssl
import time
from typing import ClassVar

import aiohttp

from nyxmon.checktypes.http import BasicAuth, HttpSpec
from nyxmon.domain.conditions import Condition, Observation, evaluate_all
from nyxmon.domain.model import Outcome, Result
from nyxmon.probes.base import PreparedCheck, ProbeExecutor, ProbeRun, os_error_reason
from nyxmon.probes.http_client import HttpClients, RequestTimings
from nyxmon.probes.registry import SharedResources

__all__ = ["TYPE_NAME", "HttpExecutor", "create_executor"]

TYPE_NAME = "http"

_DEFAULT_STATUS = ((200, 399),)
_CHUNK = 65_536


def _describe_ranges(ranges: tuple[tuple[int, int], ...]) -> str:
    return ", ".join(str(low) if low == high else f"{low}-{high}" for low, high in ranges)


def _connection_error(exc: aiohttp.ClientError) -> str:
    """A one-line reason naming the host for the ways a request fails below HTTP."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        error = exc.certificate_error
        reason = getattr(error, "verify_message", None) or str(error)
        return f"TLS certificate of {exc.host}:{exc.port} rejected: {reason}"
    if isinstance(exc, aiohttp.ClientConnectorSSLError | aiohttp.ClientSSLError):
        return f"TLS handshake with {exc.host}:{exc.port} failed: {exc.os_error}"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"cannot resolve {exc.host}: {os_error_reason(exc.os_error)}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect to {exc.host}:{exc.port}: {os_error_reason(exc.os_error)}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection without answering"
    if isinstance(exc, aiohttp.InvalidURL):
        return f"invalid URL: {exc}"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return f"malformed response body: {exc}"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"malformed response: {exc.message or exc}"
    return f"{type(exc).__name__}: {exc}"


def _basic_auth(auth: BasicAuth) -> str:
    token = base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode("ascii")
    return f"Basic {token}"


def _with_defaults(headers: dict[str, str], defaults: dict[str, str]) -> dict[str, str]:
    """``headers`` plus each default whose name (in any case) the check did not set."""
    if not defaults:
        return headers
    taken = {name.lower() for name in headers}
    missing = {name: value for name, value in defaults.items() if name.lower() not in taken}
    return {**missing, **headers} if missing else headers


async def _read_body(response: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    """Up to ``limit`` body bytes, and whether there was more."""
    length = response.content_length
    if length is not None and length <= limit:
        return await response.read(), False  # the common small body: one call, no iterator
    body = bytearray()
    async for chunk in response.content.iter_chunked(_CHUNK):
        body += chunk
        if len(body) > limit:
            return bytes(body[:limit]), True
    return bytes(body), False


class HttpExecutor(ProbeExecutor[HttpSpec]):
    """Runs ``http`` checks over the shared :class:`HttpClients` sessions."""

    type_name: ClassVar[str] = TYPE_NAME
    spec_model = HttpSpec
    default_headers: ClassVar[dict[str, str]] = {}

    def __init__(self, clients: HttpClients) -> None:
        super().__init__()
        self._clients = clients

    async def probe(self, run: ProbeRun, prepared: PreparedCheck[HttpSpec]) -> Result:
        spec = prepared.spec
        try:
            ssl_setting = self._clients.ssl_context(verify=spec.verify_tls, ca_file=spec.ca_file)
        except (OSError, ssl.SSLError) as exc:
            return run.finish(Outcome.ERROR, f"cannot load ca_file {spec.ca_file!r}: {exc}")
        timings = RequestTimings()
        if spec.keep_alive:  # a reused connection goes through none of the connect stamps
            timings.stage = "waiting for the response"
        run.context = timings
        headers = _with_defaults(spec.headers, self.default_headers)
        if spec.bearer_token is not None:
            headers = {**headers, "Authorization": f"Bearer {spec.bearer_token}"}
        elif spec.basic_auth is not None:
            headers = {**headers, "Authorization": _basic_auth(spec.basic_auth)}
        session = self._clients.session(keep_alive=spec.keep_alive)
        token = HttpClients.bind_timings(timings)
        timings.start = time.perf_counter()
        try:
            async with session.request(
                spec.method,
                spec.url,
                headers=headers or None,
                data=spec.body,
                json=spec.json_body,
                allow_redirects=spec.follow_redirects,
                max_redirects=spec.max_redirects,
                ssl=ssl_setting,
            ) as response:
                timings.headers_received()
                if timings.peer_ip is None and response.connection is not None:
                    timings.capture_peer(response.connection.transport)  # a reused connection
                body, truncated = await _read_body(response, spec.max_body_bytes)
                end = time.perf_counter()
        except aiohttp.TooManyRedirects as exc:
            run.timings.update(timings.phases())
            run.details["redirects"] = len(exc.history)
            return run.finish(Outcome.FAIL, f"more than {spec.max_redirects} redirects")
        except aiohttp.ClientError as exc:
            run.timings.update(timings.phases())
            return run.finish(Outcome.ERROR, _connection_error(exc))
        finally:
            HttpClients.unbind_timings(token)
        return self._judge(run, prepared, timings, response, body, truncated, end)

    def _judge(
        self,
        run: ProbeRun,
        prepared: PreparedCheck[HttpSpec],
        timings: RequestTimings,
        response: aiohttp.ClientResponse,
        body: bytes,
        truncated: bool,
        end: float,
    ) -> Result:
        spec = prepared.spec
        total = end - (timings.start or run.start)
        run.timings.update(timings.phases())
        run.timings["total"] = total
        size = response.content_length if truncated and response.content_length else len(body)
        details = run.details
        details["status"] = response.status
        details["size"] = size
        details["url"] = str(response.url)
        if response.history:
            details["redirects"] = len(response.history)
        if timings.peer_ip is not None:
            details["ip"] = timings.peer_ip
        if truncated:
            details["truncated"] = True
        if timings.connections <= len(response.history):  # a hop went over a kept connection
            details["reused_connection"] = True
        cert_left: float | None = None
        if timings.cert_not_after is not None:
            cert_left = timings.cert_not_after - time.time()
            details["cert_expires_at"] = timings.cert_not_after
            details["cert_days_left"] = round(cert_left / 86_400, 2)
        observation = Observation(
            status=response.status,
            body=body,
            headers=response.headers,
            response_time_ms=total * 1000,
            connected=True,
            certificate_expiration=cert_left,
            ips=(timings.peer_ip,) if timings.peer_ip else (),
            body_size=size,
        )
        problems = self._problems(spec, prepared.conditions, observation, response.status)
        outcomes = evaluate_all(prepared.conditions, observation)
        failed = [outcome.description for outcome in outcomes if not outcome.ok]
        if failed:
            details["failed_conditions"] = failed
            problems.extend(failed)
        if problems:
            return run.finish(Outcome.FAIL, "; ".join(problems))
        message = f"{response.status} {response.reason or ''}".rstrip()
        message = f"{message} in {total * 1000:.0f} ms"
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
    ) -> list[str]:
        """Reasons the response fails the status and keyword rules, before conditions."""
        problems = []
        ranges = spec.status_ranges()
        if ranges is None and not any(condition.uses("STATUS") for condition in conditions):
            ranges = _DEFAULT_STATUS
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

    def on_timeout(self, run: ProbeRun) -> str:
        timings = run.context
        if isinstance(timings, RequestTimings):
            run.timings.update(timings.phases())
            return f"no response within {run.check.timeout:g} s (while {timings.stage})"
        return super().on_timeout(run)


def create_executor(resources: SharedResources) -> HttpExecutor:
    """Registry factory: an HTTP executor on the registry's shared HTTP sessions."""
    return HttpExecutor(resources.get("http", HttpClients))
