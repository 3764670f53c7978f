"""The PostgreSQL store tells listeners which checks a committed batch changed (NOTIFY).

Real listeners on the local PostgreSQL, each store in a schema of its own: a committed batch
is heard with its checks' ids, a failed batch is not heard at all, and an installation in
another schema of the same database hears nothing of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql
from store_helpers import T0, PgSchemas, add_checks, make_result

from nyxmon.errors import NyxmonError
from nyxmon.service_layer.records.alerts import StateRow
from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.store.postgres import PostgresStore
from nyxmon.store.postgres.change_notices import CHANNEL_SQL, parse_payload


@pytest.fixture
def schemas() -> Iterator[PgSchemas]:
    made = PgSchemas()
    yield made
    made.drop_all()


def _listen(dsn: str) -> psycopg.Connection[Any]:
    conn = psycopg.connect(dsn, autocommit=True)
    row = conn.execute(f"SELECT {CHANNEL_SQL}").fetchone()
    assert row is not None
    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(row[0])))
    return conn


def _heard(conn: psycopg.Connection[Any], timeout: float = 0.5) -> set[str]:
    ids: set[str] = set()
    for notice in conn.notifies(timeout=timeout):
        found = parse_payload(notice.payload)
        assert found is not None
        ids |= found
    return ids


def test_a_committed_batch_is_heard_with_the_checks_it_changed(schemas: PgSchemas) -> None:
    dsn, other_dsn = schemas.new(), schemas.new()
    with PostgresStore(dsn) as store, PostgresStore(other_dsn) as other:
        add_checks(store, "web.a", "web.b", "web.c")
        add_checks(other, "web.a")
        listener, other_listener = _listen(dsn), _listen(other_dsn)
        try:
            store.write_batch(
                WriteBatch(
                    results=(make_result("web.a", T0), make_result("web.b", T0)),
                    states=(StateRow("web.c", "down", T0, {}, T0),),
                )
            )
            assert _heard(listener) == {"web.a", "web.b", "web.c"}
            # The other installation, in the same database, hears nothing of it.
            assert _heard(other_listener, 0.2) == set()
            other.write_batch(WriteBatch(results=(make_result("web.a", T0),)))
            assert _heard(other_listener) == {"web.a"}
            assert _heard(listener, 0.2) == set()
        finally:
            listener.close()
            other_listener.close()


def test_a_batch_that_fails_is_not_heard(schemas: PgSchemas) -> None:
    dsn = schemas.new()
    with PostgresStore(dsn) as store:
        add_checks(store, "web.a")
        listener = _listen(dsn)
        try:
            with pytest.raises(NyxmonError):  # web.gone does not exist: the batch rolls back
                store.write_batch(
                    WriteBatch(results=(make_result("web.a", T0), make_result("web.gone", T0)))
                )
            assert _heard(listener, 0.3) == set()
            assert store.count_results("web.a") == 0
        finally:
            listener.close()
