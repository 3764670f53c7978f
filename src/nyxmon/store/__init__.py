"""Storage of services, checks, results and rollups behind one implementation-neutral contract.

:mod:`nyxmon.store.base` defines the contract (``Store``, ``UnitOfWork``, repositories),
:mod:`nyxmon.store.records` the values it speaks, :mod:`nyxmon.store.sqlite` the embedded
implementation. A PostgreSQL implementation joins later behind the same contract.
"""

from __future__ import annotations

from nyxmon.store.base import (
    CheckRepository,
    ResultRepository,
    ServiceRepository,
    Store,
    StoreReader,
    UnitOfWork,
)
from nyxmon.store.records import (
    DAY,
    HOUR,
    WINDOWS,
    Availability,
    CheckQuery,
    CleanerReport,
    DbInfo,
    Page,
    ReconcileReport,
    ResultCursor,
    ResultPage,
    Retention,
    RollupReport,
    SeriesPoint,
    StoredResult,
    UpsertOutcome,
    WriteBatch,
    WriteReceipt,
)
from nyxmon.store.rollups import RollupRow
from nyxmon.store.sqlite import SqliteStore

__all__ = [
    "DAY",
    "HOUR",
    "WINDOWS",
    "Availability",
    "CheckQuery",
    "CheckRepository",
    "CleanerReport",
    "DbInfo",
    "Page",
    "ReconcileReport",
    "ResultCursor",
    "ResultPage",
    "ResultRepository",
    "Retention",
    "RollupReport",
    "RollupRow",
    "SeriesPoint",
    "ServiceRepository",
    "SqliteStore",
    "Store",
    "StoreReader",
    "StoredResult",
    "UnitOfWork",
    "UpsertOutcome",
    "WriteBatch",
    "WriteReceipt",
]
