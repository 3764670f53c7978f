"""Notifications after the commit: committed rows go out, delivery outcomes come back.

Only a committed notification may be delivered (its row exists, so a crash cannot lose it);
:func:`deliver_committed` hands the rows of each committed batch to the notifier. Outcomes come
back in batches as :class:`RecordDeliveries` and join the next store batch as outbox updates.
"""

from __future__ import annotations

from nyxmon.service_layer.dependencies import Dependencies
from nyxmon.service_layer.messages import BatchCommitted, RecordDeliveries, WriteFailed
from nyxmon.service_layer.unit_of_work import UnitOfWork

__all__ = ["deliver_committed", "note_write_failure", "record_deliveries"]


def record_deliveries(command: RecordDeliveries, uow: UnitOfWork, deps: Dependencies) -> None:
    with uow:
        uow.updates.extend(command.updates)
        uow.commit()


def deliver_committed(event: BatchCommitted, uow: UnitOfWork, deps: Dependencies) -> None:
    counters = deps.counters
    counters.batches_committed += 1
    if event.notifications:
        counters.notifications_committed += len(event.notifications)
        deps.deliveries.deliver(event.notifications)


def note_write_failure(event: WriteFailed, uow: UnitOfWork, deps: Dependencies) -> None:
    counters = deps.counters
    counters.write_failures += 1
    counters.last_write_error = f"{event.what}: {event.error}"
