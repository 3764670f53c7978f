"""Handlers of the message bus: plain functions ``(message, uow)``; dependencies bound in bootstrap.

They run on the dispatcher thread, so they only touch the unit of work's live catalog and stage
writes; whatever must read or write the database runs later on the store writer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nyxmon.domain.model import Check, CheckSource
from nyxmon.errors import CheckNotFoundError, ConflictError
from nyxmon.runtime import OneShot
from nyxmon.service_layer.messages import (
    AddCheck,
    ApplyConfig,
    ChecksChanged,
    Command,
    ConfigApplied,
    Event,
    RecordAlertChanges,
    RecordDelivery,
    RecordResult,
    RemoveCheck,
    SetPaused,
    SyncChecks,
)
from nyxmon.service_layer.records.catalog import CheckQuery
from nyxmon.service_layer.storage import Store
from nyxmon.service_layer.unit_of_work import AgentUnitOfWork, StagedOp

__all__ = ["COMMAND_HANDLERS", "EVENT_HANDLERS", "live_checks"]


def live_checks(store: Store) -> tuple[Check, ...]:
    """Every live (not archived) check, as the scheduler should see them."""
    return store.list_checks(CheckQuery()).items


def record_result(command: RecordResult, uow: AgentUnitOfWork) -> None:
    with uow:
        uow.stage_result(command.result)
        uow.commit()


def record_alert_changes(command: RecordAlertChanges, uow: AgentUnitOfWork) -> None:
    with uow:
        uow.stage_alert_rows(command.states, command.transitions, command.outbox)
        uow.commit()


def record_delivery(command: RecordDelivery, uow: AgentUnitOfWork) -> None:
    with uow:
        uow.stage_alert_rows(updates=(command.update,))
        uow.commit()


def apply_config(command: ApplyConfig, uow: AgentUnitOfWork) -> OneShot[ConfigApplied]:
    def run(store: Store) -> ConfigApplied:
        report = store.reconcile_config(command.services, command.checks)
        return ConfigApplied(
            added=report.added + report.revived,
            changed=report.changed,
            removed=report.removed,
            checks=live_checks(store),
        )

    return _stage(uow, "applying the config file", run, lambda applied: applied)


def sync_checks(command: SyncChecks, uow: AgentUnitOfWork) -> None:
    uow.emit(ChecksChanged(command.checks))


def add_check(command: AddCheck, uow: AgentUnitOfWork) -> OneShot[tuple[Check, ...]]:
    check = command.check
    if check.source is not CheckSource.API:
        raise ConflictError(f"check {check.id!r}: only API-owned checks can be added this way")
    _refuse_config_owned(uow, check.id, "changed")

    def run(store: Store) -> tuple[Check, ...]:
        with store.transaction() as store_uow:
            store_uow.checks.upsert(check)
            store_uow.commit()
        return live_checks(store)

    return _stage(uow, f"saving check {check.id!r}", run, ChecksChanged)


def remove_check(command: RemoveCheck, uow: AgentUnitOfWork) -> OneShot[tuple[Check, ...]]:
    _refuse_config_owned(uow, command.check_id, "removed")

    def run(store: Store) -> tuple[Check, ...]:
        with store.transaction() as store_uow:
            if not store_uow.checks.delete(command.check_id):
                raise CheckNotFoundError(command.check_id)
            store_uow.commit()
        return live_checks(store)

    return _stage(uow, f"removing check {command.check_id!r}", run, ChecksChanged)


def set_paused(command: SetPaused, uow: AgentUnitOfWork) -> OneShot[tuple[Check, ...]]:
    def run(store: Store) -> tuple[Check, ...]:
        with store.transaction() as store_uow:
            store_uow.checks.set_paused(command.check_id, command.paused)
            store_uow.commit()
        return live_checks(store)

    verb = "pausing" if command.paused else "resuming"
    return _stage(uow, f"{verb} check {command.check_id!r}", run, ChecksChanged)


def on_config_applied(event: ConfigApplied, uow: AgentUnitOfWork) -> None:
    uow.emit(ChecksChanged(event.checks))


def update_catalog(event: ChecksChanged, uow: AgentUnitOfWork) -> None:
    uow.checks = {check.id: check for check in event.checks}


def _refuse_config_owned(uow: AgentUnitOfWork, check_id: str, verb: str) -> None:
    existing = uow.checks.get(check_id)
    if existing is not None and existing.source is CheckSource.CONFIG:
        raise ConflictError(
            f"check {check_id!r} comes from the config file and is read-only here; "
            f"it can only be {verb} by editing the file"
        )


def _stage(
    uow: AgentUnitOfWork,
    what: str,
    run: Callable[[Store], Any],
    then: Callable[[Any], Event | None],
) -> OneShot[Any]:
    reply: OneShot[Any] = OneShot()
    with uow:
        uow.stage(StagedOp(what, run, then, reply))
        uow.commit()
    return reply


COMMAND_HANDLERS: Mapping[type[Command], Callable[[Any, AgentUnitOfWork], Any]] = {
    RecordResult: record_result,
    RecordAlertChanges: record_alert_changes,
    RecordDelivery: record_delivery,
    ApplyConfig: apply_config,
    SyncChecks: sync_checks,
    AddCheck: add_check,
    RemoveCheck: remove_check,
    SetPaused: set_paused,
}

EVENT_HANDLERS: Mapping[type[Event], Sequence[Callable[[Any, AgentUnitOfWork], None]]] = {
    ConfigApplied: [on_config_applied],
    ChecksChanged: [update_catalog],
}
