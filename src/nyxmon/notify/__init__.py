"""Notifications: routing, templates, providers (Apprise, a native webhook) and delivery.

The agent writes one outbox row per notice and route (:func:`routes_for`,
:func:`notification_key`, :func:`encode_payload`), hands committed rows to a :class:`Deliverer`
as :class:`OutboxItem` records, and persists the :data:`Outcome` it reports back.
"""

from nyxmon.notify.backoff import RetryPolicy
from nyxmon.notify.base import Provider
from nyxmon.notify.delivery import Deliverer, DeliveryStatistics, OutcomeCallback
from nyxmon.notify.records import (
    CheckInfo,
    Delivered,
    Delivery,
    GaveUp,
    OutboxItem,
    Outcome,
    OutgoingMessage,
    RetryAt,
    decode_payload,
    encode_payload,
    notification_key,
)
from nyxmon.notify.registry import PROVIDERS, ProviderContext, build_providers, provider_for
from nyxmon.notify.routing import routes_for
from nyxmon.notify.signature import sign, verify_signature
from nyxmon.notify.telemetry import notify_metrics, register_notify_metrics
from nyxmon.notify.templates import MessageRenderer, validate_template

__all__ = [
    "PROVIDERS",
    "CheckInfo",
    "Delivered",
    "Deliverer",
    "Delivery",
    "DeliveryStatistics",
    "GaveUp",
    "MessageRenderer",
    "OutboxItem",
    "Outcome",
    "OutcomeCallback",
    "OutgoingMessage",
    "Provider",
    "ProviderContext",
    "RetryAt",
    "RetryPolicy",
    "build_providers",
    "decode_payload",
    "encode_payload",
    "notification_key",
    "notify_metrics",
    "provider_for",
    "register_notify_metrics",
    "routes_for",
    "sign",
    "validate_template",
    "verify_signature",
]
