"""The PostgreSQL store (psycopg 3, a reader pool); see :class:`PostgresStore`."""

from __future__ import annotations

from nyxmon.store.postgres.store import PostgresStore, is_postgres_dsn

__all__ = ["PostgresStore", "is_postgres_dsn"]
