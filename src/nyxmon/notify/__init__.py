"""Notifications: providers (Apprise, a native webhook), templates and delivery.

The application stages one outbox row per notice and route (routing is domain logic:
:mod:`nyxmon.domain.alerting.routing`) and, once a batch committed, hands the entries to a
:class:`Deliverer`, which sends them through the providers and reports each
:data:`DeliveryOutcome` back to be written.
"""

from nyxmon.notify.backoff import RetryPolicy
from nyxmon.notify.base import Provider
from nyxmon.notify.delivery import Deliverer, DeliveryStatistics, OutcomeCallback
from nyxmon.notify.records import (
    Delivered,
    Delivery,
    DeliveryOutcome,
    GaveUp,
    OutgoingMessage,
    RetryAt,
)
from nyxmon.notify.registry import PROVIDERS, ProviderContext, build_providers, provider_for
from nyxmon.notify.signature import sign, verify_signature
from nyxmon.notify.telemetry import notify_metrics, register_notify_metrics
from nyxmon.notify.templates import MessageRenderer, validate_template

__all__ = [
    "PROVIDERS",
    "Delivered",
    "Deliverer",
    "Delivery",
    "DeliveryOutcome",
    "DeliveryStatistics",
    "GaveUp",
    "MessageRenderer",
    "OutcomeCallback",
    "OutgoingMessage",
    "Provider",
    "ProviderContext",
    "RetryAt",
    "RetryPolicy",
    "build_providers",
    "notify_metrics",
    "provider_for",
    "register_notify_metrics",
    "sign",
    "validate_template",
    "verify_signature",
]
