"""The tables several agents share on PostgreSQL (``cluster.sql``), made when a store opens.

They have no SQLite counterpart, so they stay out of the numbered migrations both stores
share (``nyxmon db copy`` checks those numbers match). The script is idempotent, and it runs
only when something is missing: ``ALTER TABLE`` takes an exclusive lock on ``results`` even
when the column exists, and an agent starting must not queue behind a long read.
:data:`CLUSTER_COLUMNS` names the columns it adds to shared tables, which ``db copy`` leaves
out (the SQLite side has none of them).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import psycopg

from nyxmon.errors import StoreError
from nyxmon.store.postgres.migrations import MIGRATION_LOCK

__all__ = ["CLUSTER_COLUMNS", "apply_cluster_schema"]

#: Columns of shared tables that only several agents use.
CLUSTER_COLUMNS: dict[str, frozenset[str]] = {
    "outbox": frozenset({"claimed_by", "claimed_until"}),
    "results": frozenset({"agent_id"}),
}

_PRESENT = (
    "SELECT to_regclass('agents') IS NOT NULL AND to_regclass('check_leases') IS NOT NULL"
    " AND (SELECT count(*) FROM information_schema.columns"
    "      WHERE table_schema = current_schema()"
    "      AND (table_name, column_name) IN (('outbox', 'claimed_by'),"
    "           ('outbox', 'claimed_until'), ('results', 'agent_id'))) = 3"
)


def apply_cluster_schema(conn: psycopg.Connection[Any], location: str) -> None:
    """Make the cluster tables on ``conn`` (autocommit mode) unless they are all there."""
    try:
        row = conn.execute(_PRESENT).fetchone()
        if row and row[0]:
            return
        sql = resources.files("nyxmon.store.postgres").joinpath("cluster.sql").read_text("utf-8")
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute(sql.encode())
    except psycopg.Error as exc:
        raise StoreError(
            f"making the several-agent tables on {location} failed: {str(exc).strip()}"
        ) from exc
