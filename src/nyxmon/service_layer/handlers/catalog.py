"""Changing what is monitored: the config applied, checks and services added, changed,
paused and removed, and every part of the application following the live set of checks.

Catalog writes are operations for the store writer (:class:`WriteOp`) that call the one
function of :mod:`nyxmon.service_layer.catalog` or :mod:`nyxmon.service_layer.reconcile` that
writes those rows; the caller gets a reply when it committed, and the application follows with
:class:`CatalogChanged` (and, for the checks it runs, :class:`ChecksChanged`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nyxmon.domain.redaction import register, secrets_in_params
from nyxmon.domain.status import CheckStatus
from nyxmon.runtime import OneShot
from nyxmon.service_layer import catalog
from nyxmon.service_layer.alerting import CheckState
from nyxmon.service_layer.dependencies import Dependencies
from nyxmon.service_layer.handlers.results import apply_decision
from nyxmon.service_layer.messages import (
    AddCheck,
    ApplyAlertSettings,
    ApplyConfig,
    CatalogChanged,
    ChecksChanged,
    ConfigApplied,
    Event,
    RemoveCheck,
    RemoveService,
    SaveService,
    SetPaused,
    SyncChecks,
)
from nyxmon.service_layer.push import is_push
from nyxmon.service_layer.reconcile import reconcile
from nyxmon.service_layer.records.catalog import CheckQuery
from nyxmon.service_layer.storage import Store, Transaction
from nyxmon.service_layer.unit_of_work import UnitOfWork, WriteOp

__all__ = [
    "add_check",
    "apply_alert_settings",
    "apply_config",
    "follow_checks",
    "on_config_applied",
    "remove_check",
    "remove_service",
    "save_service",
    "set_paused",
    "sync_checks",
]


def apply_config(command: ApplyConfig, uow: UnitOfWork, deps: Dependencies) -> OneShot[Any]:
    """Reconcile the file's services and checks into the store; replies ConfigApplied."""

    def run(store: Store) -> ConfigApplied:
        with store.transaction() as tx:
            tx.serialize("config")  # several agents starting at once apply the file once
            report = reconcile(tx, command.services, command.checks)
            tx.commit()
        return ConfigApplied(
            added=report.added + report.revived,
            changed=report.changed,
            removed=report.removed,
            checks=store.list_checks(CheckQuery()).items,
        )

    return _stage(uow, "applying the config file", run, lambda applied: applied)


def on_config_applied(event: ConfigApplied, uow: UnitOfWork, deps: Dependencies) -> None:
    uow.emit(CatalogChanged(event.checks))


def apply_alert_settings(command: ApplyAlertSettings, uow: UnitOfWork, deps: Dependencies) -> None:
    """New routes, windows and default policy: every machine takes its new policy."""
    alerting = deps.alerting
    alerting.settings = command.settings
    combines = deps.ownership.combines
    for state in deps.live.values():
        policy = alerting.policy_for(state.check, combined=combines(state.check))
        state.machine.update_policy(policy, state.check.interval)


def sync_checks(command: SyncChecks, uow: UnitOfWork, deps: Dependencies) -> None:
    uow.emit(CatalogChanged(command.checks))


def add_check(command: AddCheck, uow: UnitOfWork, deps: Dependencies) -> OneShot[Any]:
    check = command.check
    return _write(uow, f"saving check {check.id!r}", lambda tx: catalog.save_check(tx, check))


def remove_check(command: RemoveCheck, uow: UnitOfWork, deps: Dependencies) -> OneShot[Any]:
    check_id = command.check_id
    return _write(
        uow, f"removing check {check_id!r}", lambda tx: catalog.remove_check(tx, check_id)
    )


def set_paused(command: SetPaused, uow: UnitOfWork, deps: Dependencies) -> OneShot[Any]:
    verb = "pausing" if command.paused else "resuming"
    return _write(
        uow,
        f"{verb} check {command.check_id!r}",
        lambda tx: catalog.set_paused(tx, command.check_id, command.paused),
    )


def save_service(command: SaveService, uow: UnitOfWork, deps: Dependencies) -> OneShot[Any]:
    service = command.service
    return _write(
        uow,
        f"saving service {service.name!r}",
        lambda tx: catalog.save_service(tx, service, create=command.create),
    )  # its checks follow: they are read with its labels and group


def remove_service(command: RemoveService, uow: UnitOfWork, deps: Dependencies) -> OneShot[Any]:
    return _write(
        uow,
        f"removing service {command.name!r}",
        lambda tx: catalog.remove_service(tx, command.name),
        follow=False,
    )


def follow_checks(event: ChecksChanged, uow: UnitOfWork, deps: Dependencies) -> None:
    """Machines and the scheduler follow the live set of checks: new checks get a machine
    (resumed from its saved snapshot), changed ones their new policy, removed ones go."""
    live = deps.live
    alerting = deps.alerting
    combines = deps.ownership.combines
    now = alerting.clock()
    wanted = {check.id: check for check in event.checks}
    probed = event.probed
    if probed is None:  # one agent: it probes the checks it runs
        to_probe = event.checks
        deps.views.follow({})
    else:
        to_probe = tuple(check for check, _ in probed.values())
        deps.views.follow({cid: (c, loc) for cid, (c, loc) in probed.items() if loc is not None})
    for check in (*wanted.values(), *to_probe):  # a check from the API brings its own secrets
        if live.get(check.id) is None or live[check.id].check.params != check.params:
            register(secrets_in_params(check.params))
    with uow:
        for check_id in [cid for cid in live if cid not in wanted]:
            del live[check_id]
        for check_id, check in wanted.items():
            state = live.get(check_id)
            if state is None:
                machine = alerting.machine_for(check, combined=combines(check))
                status = CheckStatus(check_id).with_alert(machine.state.value, machine.since)
                state = live[check_id] = CheckState(check, machine, status)
                deps.publish(status)
                if not check.active:
                    apply_decision(state, machine.pause(now), now, "paused", uow, deps)
                else:  # maintenance may have begun while the agent was down
                    in_maintenance = alerting.in_maintenance(check, now)
                    decision = machine.on_tick(now, in_maintenance=in_maintenance)
                    apply_decision(state, decision, now, "timer", uow, deps)
            elif state.check != check:
                old, state.check = state.check, check
                if (
                    check.alert != old.alert
                    or check.interval != old.interval
                    or check.locations != old.locations
                ):
                    policy = alerting.policy_for(check, combined=combines(check))
                    state.machine.update_policy(policy, check.interval)
                if old.active and not check.active:
                    apply_decision(state, state.machine.pause(now), now, "paused", uow, deps)
                elif check.active and not old.active:
                    apply_decision(state, state.machine.resume(now), now, "resumed", uow, deps)
        uow.commit()
    # Push checks are pinged, not probed: their deadlines are the push handlers' business.
    deps.probes.set_checks(tuple(check for check in to_probe if not is_push(check)))


# -- helpers ---------------------------------------------------------------------------------------
def _write(
    uow: UnitOfWork, what: str, change: Callable[[Transaction], object], *, follow: bool = True
) -> OneShot[Any]:
    """Stage ``change`` as one transaction; with ``follow``, the live checks follow it."""

    def run(store: Store) -> Any:
        with store.transaction() as tx:
            change(tx)
            tx.commit()
        return store.list_checks(CheckQuery()).items if follow else None

    def then(value: Any) -> Event | None:
        return CatalogChanged(value) if follow else None

    return _stage(uow, what, run, then)


def _stage(
    uow: UnitOfWork,
    what: str,
    run: Callable[[Store], Any],
    then: Callable[[Any], Event | None],
) -> OneShot[Any]:
    reply: OneShot[Any] = OneShot()
    with uow:
        uow.stage_op(WriteOp(what, run, then, reply))
        uow.commit()
    return reply
