"""One handler per use case, found by the message it handles.

Handlers are plain functions ``(message, uow, deps)``: :mod:`.results` (a result arrives, time
passes), :mod:`.push` (a ping arrives, a push deadline passes), :mod:`.catalog` (checks and
services change), :mod:`.leases` (which of them this agent runs), :mod:`.deliveries` (notifications
committed and delivered).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nyxmon.service_layer.dependencies import Dependencies
from nyxmon.service_layer.handlers import catalog, deliveries, leases, push, results
from nyxmon.service_layer.messages import (
    AddCheck,
    ApplyAlertSettings,
    ApplyConfig,
    BatchCommitted,
    CatalogChanged,
    ChecksChanged,
    ChecksTakenOver,
    CombineViews,
    Command,
    ConfigApplied,
    Event,
    PushDeadline,
    RecordDeliveries,
    RecordPing,
    RecordResults,
    RemoveCheck,
    RemoveService,
    RestorePushes,
    RestoreStates,
    SaveQuietStates,
    SaveService,
    SetLeases,
    SetPaused,
    SyncChecks,
    Tick,
    WriteFailed,
)
from nyxmon.service_layer.unit_of_work import UnitOfWork

__all__ = ["COMMAND_HANDLERS", "EVENT_HANDLERS", "CommandHandler", "EventHandler"]

CommandHandler = Callable[[Any, UnitOfWork, Dependencies], Any]
EventHandler = Callable[[Any, UnitOfWork, Dependencies], None]

COMMAND_HANDLERS: Mapping[type[Command], CommandHandler] = {
    RecordResults: results.record_results,
    Tick: results.tick,
    SaveQuietStates: results.save_quiet_states,
    RestoreStates: results.restore_states,
    RecordDeliveries: deliveries.record_deliveries,
    ApplyConfig: catalog.apply_config,
    ApplyAlertSettings: catalog.apply_alert_settings,
    SyncChecks: catalog.sync_checks,
    AddCheck: catalog.add_check,
    RemoveCheck: catalog.remove_check,
    SetPaused: catalog.set_paused,
    SaveService: catalog.save_service,
    RemoveService: catalog.remove_service,
    RecordPing: push.record_ping,
    PushDeadline: push.push_deadline,
    RestorePushes: push.restore_pushes,
    SetLeases: leases.set_leases,
    CombineViews: results.combine_views,
}

EVENT_HANDLERS: Mapping[type[Event], Sequence[EventHandler]] = {
    ConfigApplied: [catalog.on_config_applied],
    CatalogChanged: [leases.follow_catalog],
    ChecksTakenOver: [leases.run_taken_over],
    ChecksChanged: [catalog.follow_checks, push.follow_push_checks],
    BatchCommitted: [deliveries.deliver_committed],
    WriteFailed: [deliveries.note_write_failure],
}
