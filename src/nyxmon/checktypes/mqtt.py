"""The ``mqtt`` check type's parameters: connect and log in to an MQTT broker, optionally
publish to a topic and receive it back (the probe: :mod:`nyxmon.probes.mqtt`)."""

from __future__ import annotations

from pydantic import Field, field_validator

from nyxmon.checktypes.base import CheckType
from nyxmon.checktypes.endpoint import (
    ENDPOINT_OBSERVES,
    EndpointSpec,
    SlowAfter,
    password_field,
    port_field,
    slow_field,
)

__all__ = ["MQTT", "MqttSpec"]


class MqttSpec(EndpointSpec):
    """Params of an ``mqtt`` check."""

    port: int = port_field(1883)
    username: str | None = Field(None, description="user to log in as (default: anonymous)")
    password: str | None = password_field()
    client_id: str | None = Field(None, description="MQTT client id (default: a fresh one)")
    topic: str | None = Field(
        None,
        description="topic to subscribe to and publish on; the message must come back, its "
        "payload is [VALUE]",
    )
    payload: str = Field("nyxmon", description="what the round trip publishes")
    max_response_time: SlowAfter = slow_field()

    @field_validator("topic")
    @classmethod
    def _check_topic(cls, value: str | None) -> str | None:
        if value is not None and (not value or "+" in value or "#" in value):
            raise ValueError("must be a topic name to publish on, without wildcards (+ or #)")
        return value


MQTT = CheckType(
    name="mqtt",
    params=MqttSpec,
    observes=ENDPOINT_OBSERVES,
    executor="nyxmon.probes.mqtt:create_executor",
    summary="MQTT broker: connect, log in, optional publish/subscribe round trip",
)
