"""The ``amqp`` check type's parameters: log in to an AMQP 0-9-1 broker such as RabbitMQ, open
a channel, optionally look at a queue (the probe: :mod:`nyxmon.probes.amqp`)."""

from __future__ import annotations

from pydantic import Field

from nyxmon.checktypes.base import CheckType
from nyxmon.checktypes.endpoint import (
    ENDPOINT_OBSERVES,
    EndpointSpec,
    SlowAfter,
    password_field,
    port_field,
    slow_field,
)

__all__ = ["AMQP", "AmqpSpec"]


class AmqpSpec(EndpointSpec):
    """Params of an ``amqp`` check."""

    port: int = port_field(5672)
    vhost: str = Field("/", min_length=1, description="virtual host")
    username: str = Field("guest", min_length=1, description="user to log in as")
    password: str | None = password_field()
    queue: str | None = Field(
        None,
        description="queue that must exist (checked passively); its message count is [VALUE]",
    )
    max_response_time: SlowAfter = slow_field()


AMQP = CheckType(
    name="amqp",
    params=AmqpSpec,
    observes=ENDPOINT_OBSERVES,
    executor="nyxmon.probes.amqp:create_executor",
    summary="AMQP broker (RabbitMQ): log in, open a channel, a queue's depth as [VALUE]",
)
