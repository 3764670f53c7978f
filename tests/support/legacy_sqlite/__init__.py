"""A frozen copy of the SQLite store as it was at schema 6 (commit afabfa5, before issue 14).

Kept for two jobs only: writing databases exactly as NyxMon did before results were packed
(through its own ``write_batch``), so the migration to schema 7 is tested on the real thing,
and reading them as it did, so tests and ``bench/storage.py`` compare answers and timings side
by side. It knows migrations 0001..0006 only. Never import it from ``src/``.
"""

from __future__ import annotations

from tests.support.legacy_sqlite.store import SqliteStore as LegacySqliteStore

__all__ = ["LegacySqliteStore"]
