"""The ``websocket`` check type: open a WebSocket with aiohttp's client, optionally send a text
message, and when the check sends or expects something, wait for the first message; it must
contain ``expect``, and conditions read it as ``[BODY]`` (``[BODY].a`` when it is JSON).

Every run opens its own connection (the handshake is what is measured) on one aiohttp session
shared by the websocket checks, created when the first one runs; the socket is closed before
the run ends.
"""

from __future__ import annotations

import ssl
import time
from typing import ClassVar

import aiohttp

from nyxmon.checktypes.websocket import WebsocketSpec
from nyxmon.domain.conditions import Observation, evaluate_all
from nyxmon.domain.model import Outcome, Result
from nyxmon.domain.redaction import mask_url
from nyxmon.probes.base import PreparedCheck, ProbeExecutor, ProbeRun, os_error_reason
from nyxmon.probes.registry import SharedResources

__all__ = ["TYPE_NAME", "WebsocketExecutor", "create_executor"]

TYPE_NAME = "websocket"
_MAX_MESSAGE = 1_048_576


class _Session:
    """The aiohttp session of the websocket probes: no connection pool kept between runs."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def get(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(force_close=True, limit=0)
            self._session = aiohttp.ClientSession(connector=connector, trust_env=False)
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _tls(spec: WebsocketSpec) -> ssl.SSLContext | bool:
    if not spec.verify_tls:
        return False
    if spec.ca_file is not None:
        return ssl.create_default_context(cafile=spec.ca_file)
    return True


class WebsocketExecutor(ProbeExecutor[WebsocketSpec]):
    """Runs ``websocket`` checks."""

    type_name: ClassVar[str] = TYPE_NAME
    spec_model = WebsocketSpec

    def __init__(self, session: _Session) -> None:
        super().__init__()
        self._session = session

    async def probe(self, run: ProbeRun, prepared: PreparedCheck[WebsocketSpec]) -> Result:
        spec = prepared.spec
        shown = mask_url(spec.url) if "@" in spec.url or "?" in spec.url else spec.url
        run.details["url"] = shown
        run.context = "opening"
        try:
            tls = _tls(spec)
        except OSError as exc:
            return run.finish(Outcome.ERROR, f"ca_file {spec.ca_file}: {os_error_reason(exc)}")
        try:
            socket = await self._session.get().ws_connect(
                spec.url, headers=spec.headers, ssl=tls, autoping=True,
                max_msg_size=_MAX_MESSAGE, timeout=aiohttp.ClientWSTimeout(ws_close=1.0),
            )  # fmt: skip
        except aiohttp.WSServerHandshakeError as exc:
            return run.finish(
                Outcome.FAIL, f"{shown}: upgrade refused with status {exc.status} {exc.message}"
            )
        except aiohttp.ClientConnectorError as exc:
            return run.finish(Outcome.ERROR, f"cannot connect to {shown}: {os_error_reason(exc)}")
        except (aiohttp.ClientError, OSError) as exc:
            return run.finish(Outcome.ERROR, f"{shown}: {exc or type(exc).__name__}")
        body: bytes | None = None
        try:
            run.timings["connect"] = run.elapsed()
            if spec.awaits_message():
                sent = time.perf_counter()
                if spec.send is not None:
                    await socket.send_str(spec.send)
                run.context = "waiting for a message"
                message = await socket.receive()
                if message.type is aiohttp.WSMsgType.TEXT:
                    body = message.data.encode()
                elif message.type is aiohttp.WSMsgType.BINARY:
                    body = bytes(message.data)
                else:
                    return run.finish(
                        Outcome.FAIL, f"{shown}: closed before a message ({message.type.name})"
                    )
                run.timings["message"] = time.perf_counter() - sent
        finally:
            await socket.close()
        return self._judge(run, prepared, body, shown)

    def _judge(
        self, run: ProbeRun, prepared: PreparedCheck[WebsocketSpec], body: bytes | None, shown: str
    ) -> Result:
        spec = prepared.spec
        total = run.elapsed()
        run.timings["total"] = total
        problems = []
        if body is not None:
            run.details["size"] = len(body)
            if spec.expect is not None and spec.expect.encode() not in body:
                text = body[:80].decode("utf-8", "replace")
                problems.append(f"message {text!r} does not contain {spec.expect!r}")
        observation = Observation(body=body, response_time_ms=total * 1000, connected=True)
        failed = [o.description for o in evaluate_all(prepared.conditions, observation) if not o.ok]
        if failed:
            run.details["failed_conditions"] = failed
            problems.extend(failed)
        if problems:
            return run.finish(Outcome.FAIL, "; ".join(problems))
        message = f"{shown} open in {run.timings['connect'] * 1000:.0f} ms"
        if body is not None:
            message += f", answered in {total * 1000:.0f} ms"
        if spec.max_response_time is not None and total > spec.max_response_time:
            slow = f"{message}, slower than {spec.max_response_time * 1000:.0f} ms"
            return run.finish(Outcome.OK, slow, degraded=True)
        return run.finish(Outcome.OK, message)

    def on_timeout(self, run: ProbeRun) -> str:
        phase = run.context if isinstance(run.context, str) else "opening"
        url = run.details.get("url", "the WebSocket")
        return f"no answer from {url} within {run.check.timeout:g} s ({phase})"


def create_executor(resources: SharedResources) -> WebsocketExecutor:
    """Registry factory: websocket checks share one aiohttp session."""
    return WebsocketExecutor(resources.get("websocket", _Session))
