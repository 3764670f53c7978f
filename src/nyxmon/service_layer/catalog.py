"""Writing the catalog of checks and services: the one place each of those rows is written.

Each function runs inside the caller's :class:`~nyxmon.service_layer.storage.Transaction` and
enforces the ownership rules there, where they cannot race: checks and services from the config
file are changed only by the file (:func:`nyxmon.service_layer.reconcile.reconcile`), those
created through the API or the CLI only through these. The agent runs them on its store writer
(as the operations of :mod:`nyxmon.service_layer.handlers.catalog`); the CLI, which may run
while no agent does, runs them directly (:mod:`nyxmon.service_layer.direct`).
"""

from __future__ import annotations

from nyxmon.domain.model import Check, CheckSource, Service
from nyxmon.errors import CheckNotFoundError, ConflictError, ServiceNotFoundError
from nyxmon.service_layer.records.catalog import CheckQuery, UpsertOutcome
from nyxmon.service_layer.storage import Transaction

__all__ = ["remove_check", "remove_service", "save_check", "save_service", "set_paused"]


def save_check(tx: Transaction, check: Check) -> UpsertOutcome:
    """Add or replace an API-owned check, creating its service (API-owned) if it is new."""
    if check.source is not CheckSource.API:
        raise ConflictError(f"check {check.id!r}: only API-owned checks can be added this way")
    existing = tx.checks.get(check.id, include_archived=True)
    if existing is not None and existing.source is CheckSource.CONFIG:
        raise ConflictError(
            f"check {check.id!r} comes from the config file and is read-only here; "
            "choose another name or id"
        )
    if tx.services.get(check.service) is None:
        tx.services.upsert(Service(check.service), source=CheckSource.API)
    return tx.checks.upsert(check)


def remove_check(tx: Transaction, check_id: str) -> None:
    """Delete an API-owned check and its whole history."""
    existing = tx.checks.get(check_id)
    if existing is None:
        raise CheckNotFoundError(check_id)
    if existing.source is CheckSource.CONFIG:
        raise ConflictError(
            f"check {check_id!r} comes from the config file and is read-only here; "
            "it can only be removed by editing the file"
        )
    tx.checks.delete(check_id)


def set_paused(tx: Transaction, check_id: str, paused: bool) -> Check:
    """Pause or resume any live check (pausing a config check is operational, not config)."""
    return tx.checks.set_paused(check_id, paused)


def save_service(tx: Transaction, service: Service, *, create: bool) -> UpsertOutcome:
    """Create (refused if the name is taken) or change (refused if unknown) an API-owned
    service; services from the config file are read-only here."""
    existing = tx.services.get(service.name)
    if create and existing is not None:
        raise ConflictError(f"service {service.name!r} exists already; PUT to change it")
    if not create and existing is None:
        raise ServiceNotFoundError(service.name)
    return tx.services.upsert(service, source=CheckSource.API)


def remove_service(tx: Transaction, name: str) -> None:
    """Delete an API-owned service that has no checks left."""
    if tx.services.get(name) is None:
        raise ServiceNotFoundError(name)
    if name in {s.name for s in tx.services.all(source=CheckSource.CONFIG)}:
        raise ConflictError(f"service {name!r} is defined in the config file; remove it there")
    checks = tx.checks.query(CheckQuery(service=name, archived=None, limit=1))
    if checks.total:
        raise ConflictError(
            f"service {name!r} still has {checks.total} check(s); delete or move them first"
        )
    tx.services.delete(name)
