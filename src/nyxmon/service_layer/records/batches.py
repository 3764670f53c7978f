"""The agent's hot-path write: one batch, one transaction, and what it got back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nyxmon.domain.locations import LocationView
from nyxmon.domain.model import Result
from nyxmon.service_layer.records.alerts import OutboxRow, OutboxUpdate, StateRow, Transition

__all__ = ["WriteBatch", "WriteReceipt"]


@dataclass(frozen=True, slots=True)
class WriteBatch:
    """Everything one store transaction commits together.

    The agent's writer gathers the results of a dispatch round into one batch so they cost
    one commit. The alerting work adds ``states`` and ``outbox`` sequences here (with empty
    defaults), so ``Store.write_batch(batch)`` keeps its signature as the batch grows.
    """

    results: Sequence[Result] = ()
    states: Sequence[StateRow] = ()
    transitions: Sequence[Transition] = ()
    outbox: Sequence[OutboxRow] = ()
    outbox_updates: Sequence[OutboxUpdate] = ()
    #: The views of their locations the results of this batch changed (checks probed from
    #: several locations: :mod:`nyxmon.domain.locations`).
    views: Sequence[LocationView] = ()

    def __len__(self) -> int:
        return (
            len(self.views)
            + len(self.results)
            + len(self.states)
            + len(self.transitions)
            + len(self.outbox)
            + len(self.outbox_updates)
        )


@dataclass(frozen=True, slots=True)
class WriteReceipt:
    """What a committed batch got: the ids of its results, and of its outbox rows aligned with
    ``batch.outbox`` (``None`` where the key already existed: a notice is never queued twice)."""

    result_ids: tuple[int, ...] = ()
    outbox_ids: tuple[int | None, ...] = ()
