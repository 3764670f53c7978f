"""The ``mqtt`` check type: connect and log in to an MQTT broker with gmqtt (MQTT 3.1.1), and
when the check names a topic, subscribe, publish the payload and wait until it comes back;
the received payload is ``[VALUE]``.

gmqtt speaks asyncio all the way down (aiomqtt hands every connect to a worker thread, which
at thousands of runs would cost a thread each). Reconnects are off: each run opens one fresh
connection and closes it (see :mod:`nyxmon.probes.endpoint`). gmqtt is imported when the first
mqtt check runs.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any, ClassVar

import gmqtt
from gmqtt.mqtt.constants import MQTTv311
from gmqtt.mqtt.handler import MQTTConnectError

from nyxmon.checktypes.mqtt import MqttSpec
from nyxmon.probes.base import ProbeRun
from nyxmon.probes.endpoint import NO_QUERY, EndpointExecutor, ProbeFailure
from nyxmon.probes.registry import SharedResources

__all__ = ["TYPE_NAME", "MqttExecutor", "create_executor"]

TYPE_NAME = "mqtt"
_NO_RECONNECTS = {"reconnect_retries": 0, "reconnect_delay": 0}


class MqttExecutor(EndpointExecutor[MqttSpec]):
    """Runs ``mqtt`` checks: one fresh connection per run."""

    type_name: ClassVar[str] = TYPE_NAME
    spec_model = MqttSpec
    default_port: ClassVar[int] = 1883

    async def session(self, run: ProbeRun, spec: MqttSpec) -> Any:
        where = self.where(spec)
        client = gmqtt.Client(spec.client_id or f"nyxmon-{secrets.token_hex(6)}")
        client.set_config(_NO_RECONNECTS)
        if spec.username is not None:
            client.set_auth_credentials(spec.username, spec.password)
        received: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        payload = spec.payload.encode()

        def on_message(_client: Any, topic: str, body: bytes, qos: int, props: Any) -> int:
            if topic == spec.topic and body == payload and not received.done():
                received.set_result(body)
            return 0

        client.on_message = on_message
        try:
            try:
                await client.connect(spec.host, spec.port, version=MQTTv311)
            except MQTTConnectError as exc:
                raise ProbeFailure(f"mqtt {where}: login refused: {exc}") from None
            run.timings["connect"] = run.elapsed()
            if spec.topic is None:
                return NO_QUERY
            run.context = f"waiting for the message on {spec.topic!r}"
            sent = time.perf_counter()
            # One connection keeps order: the broker applies the subscription first.
            client.subscribe(spec.topic, qos=0)
            client.publish(spec.topic, payload, qos=0)
            body = await received
            run.timings["query"] = time.perf_counter() - sent
            return body.decode("utf-8", "replace")
        finally:
            # also after a timeout while connecting: it closes the half-open connection
            await client.disconnect()


def create_executor(resources: SharedResources) -> MqttExecutor:
    """Registry factory: mqtt probes share nothing."""
    return MqttExecutor()
