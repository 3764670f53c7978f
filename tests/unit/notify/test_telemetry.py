from __future__ import annotations

import pytest

from nyxmon.metrics import Recorder, SetGauge
from nyxmon.notify.telemetry import (
    BACKLOG_METRIC,
    NotificationAttempt,
    NotificationDelivered,
    register_notify_metrics,
)


@pytest.mark.anyio
async def test_the_notify_metrics_count_what_the_deliverer_emits() -> None:
    recorder = Recorder("notify").start()
    names = [m.name for m in register_notify_metrics(recorder)]
    assert names == [
        "notifications_sent_total",
        "notification_attempt_seconds",
        "notification_delivery_delay_seconds",
        "notifications_pending",
        "notify_outbox_backlog",
    ]
    for outcome in ("retry", "retry", "delivered"):
        recorder.register_event(NotificationAttempt("ops", outcome, 0.2))
    recorder.register_event(NotificationDelivered("ops", 12.0))
    recorder.register_event(SetGauge(BACKLOG_METRIC, 7))
    snapshot = recorder.get_metric_snapshots()
    sent = snapshot.metric("notifications_sent_total")
    assert sent.value(("ops", "retry")) == 2
    assert sent.value(("ops", "delivered")) == 1
    assert snapshot.metric(BACKLOG_METRIC).value() == 7
    await recorder.stop_async()
