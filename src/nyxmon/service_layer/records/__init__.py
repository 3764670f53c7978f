"""The values the application's ports speak, one module per concept.

- :mod:`.catalog`: listing and changing checks (``CheckQuery``, ``Page``, upsert outcomes);
- :mod:`.results`: stored results with ids and keyset cursors;
- :mod:`.alerts`: alert state snapshots, transitions and outbox rows;
- :mod:`.batches`: the agent's one-transaction write and its receipt;
- :mod:`.accounts`: users and API tokens;
- :mod:`.upkeep`: retention, rollup and cleaner reports, database info.

Plain frozen dataclasses with no driver types in them, so every store speaks the same language
to the agent, the web plane and the CLI.
"""

from nyxmon.service_layer.records.accounts import TokenRecord, UserRecord
from nyxmon.service_layer.records.alerts import (
    OutboxEntry,
    OutboxRow,
    OutboxUpdate,
    StateRow,
    Transition,
)
from nyxmon.service_layer.records.batches import WriteBatch, WriteReceipt
from nyxmon.service_layer.records.catalog import CheckQuery, Page, ReconcileReport, UpsertOutcome
from nyxmon.service_layer.records.results import ResultCursor, ResultPage, StoredResult
from nyxmon.service_layer.records.upkeep import CleanerReport, DbInfo, Retention, RollupReport

__all__ = [
    "CheckQuery",
    "CleanerReport",
    "DbInfo",
    "OutboxEntry",
    "OutboxRow",
    "OutboxUpdate",
    "Page",
    "ReconcileReport",
    "ResultCursor",
    "ResultPage",
    "Retention",
    "RollupReport",
    "StateRow",
    "StoredResult",
    "TokenRecord",
    "Transition",
    "UpsertOutcome",
    "UserRecord",
    "WriteBatch",
    "WriteReceipt",
]
