"""Making the stored config checks equal to the config file, for any store implementation.

Runs inside one transaction, so a conflict found anywhere leaves everything as it was. Checks
created through the API are never touched. ``paused`` is operational state: it comes from the
file when a check is created and is owned by ``set_paused`` afterwards, so reloading the config
never resumes a check someone paused for maintenance.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from nyxmon.domain.model import Check, CheckSource, Service
from nyxmon.errors import ConflictError
from nyxmon.service_layer.records.catalog import CheckQuery, ReconcileReport, UpsertOutcome
from nyxmon.service_layer.storage import Store, Transaction

__all__ = ["reconcile", "reconcile_config"]


def _refuse_duplicates(kind: str, names: Sequence[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ConflictError(f"{kind} {name!r} appears more than once in the config")
        seen.add(name)


def reconcile(
    tx: Transaction, services: Sequence[Service], checks: Sequence[Check]
) -> ReconcileReport:
    """Apply the config's services and checks through ``tx`` (the caller commits)."""
    _refuse_duplicates("service", [s.name for s in services])
    _refuse_duplicates("check id", [c.id for c in checks])
    live = {c.id: c for c in tx.checks.query(CheckQuery(archived=False, source=None)).items}
    archived = {c.id: c for c in tx.checks.query(CheckQuery(archived=True, source=None)).items}
    for check in checks:
        existing = live.get(check.id) or archived.get(check.id)
        if existing is not None and existing.source is CheckSource.API:
            raise ConflictError(
                f"config check {check.id!r} has the id of a check created through the API; "
                "give the config check another id or delete the API check"
            )

    for service in services:
        tx.services.upsert(service, source=CheckSource.CONFIG)
    wanted_services = {s.name for s in services}
    for service in tx.services.all(source=CheckSource.CONFIG):
        if service.name not in wanted_services:
            tx.services.delete(service.name)

    added: list[str] = []
    changed: list[str] = []
    unchanged: list[str] = []
    revived: list[str] = []
    for check in checks:
        desired = dataclasses.replace(check, source=CheckSource.CONFIG)
        stored = live.get(check.id) or archived.get(check.id)
        if stored is not None:
            desired = dataclasses.replace(desired, paused=stored.paused)
        outcome = tx.checks.upsert(desired)
        if outcome is UpsertOutcome.ADDED:
            added.append(check.id)
        elif outcome is UpsertOutcome.REVIVED:
            added.append(check.id)
            revived.append(check.id)
        elif outcome is UpsertOutcome.CHANGED:
            changed.append(check.id)
        else:
            unchanged.append(check.id)

    wanted_checks = {c.id for c in checks}
    removed = sorted(
        check_id
        for check_id, stored in live.items()
        if stored.source is CheckSource.CONFIG and check_id not in wanted_checks
    )
    for check_id in removed:
        tx.checks.archive(check_id)
    return ReconcileReport(
        added=tuple(sorted(added)),
        changed=tuple(sorted(changed)),
        removed=tuple(removed),
        unchanged=tuple(sorted(unchanged)),
        revived=tuple(sorted(revived)),
    )


def reconcile_config(
    store: Store, services: Sequence[Service], checks: Sequence[Check]
) -> ReconcileReport:
    """:func:`reconcile` in a transaction of its own, committed."""
    with store.transaction() as tx:
        report = reconcile(tx, services, checks)
        tx.commit()
    return report
