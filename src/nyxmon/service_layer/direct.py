"""Catalog commands run at once against a store, for a process without an agent (the CLI).

The same commands the agent's bus takes, written by the same functions of
:mod:`nyxmon.service_layer.catalog`, each in its own transaction; a running agent notices the
change within its watch period (:class:`~nyxmon.agent.watcher.CheckWatcher`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nyxmon.service_layer import catalog
from nyxmon.service_layer.messages import (
    AddCheck,
    Command,
    RemoveCheck,
    RemoveService,
    SaveService,
    SetPaused,
)
from nyxmon.service_layer.storage import Store, Transaction

__all__ = ["execute"]

_CHANGES: dict[type[Command], Callable[[Transaction, Any], Any]] = {
    AddCheck: lambda tx, c: catalog.save_check(tx, c.check),
    RemoveCheck: lambda tx, c: catalog.remove_check(tx, c.check_id),
    SetPaused: lambda tx, c: catalog.set_paused(tx, c.check_id, c.paused),
    SaveService: lambda tx, c: catalog.save_service(tx, c.service, create=c.create),
    RemoveService: lambda tx, c: catalog.remove_service(tx, c.name),
}


def execute(store: Store, command: Command) -> Any:
    """Run a catalog command in one transaction; what its catalog function returned."""
    change = _CHANGES.get(type(command))
    if change is None:
        raise LookupError(f"{type(command).__name__} needs a running agent")
    with store.transaction() as tx:
        value = change(tx, command)
        tx.commit()
    return value
