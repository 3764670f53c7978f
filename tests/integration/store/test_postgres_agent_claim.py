"""The agent's claim on a PostgreSQL store: one agent per database and schema, named when a
second is refused, and gone with its holder's process (kill -9 included)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from store_helpers import PgSchemas

from nyxmon.errors import StoreError
from nyxmon.store.postgres import PostgresStore


@pytest.fixture
def schemas() -> Iterator[PgSchemas]:
    made = PgSchemas()
    yield made
    made.drop_all()


def test_a_second_claim_is_refused_naming_the_holder_until_released(schemas: PgSchemas) -> None:
    dsn = schemas.new()
    with PostgresStore(dsn, readers=1) as store, PostgresStore(dsn, readers=1) as other:
        claim = store.claim_agent()
        with pytest.raises(StoreError) as refused:
            other.claim_agent()
        message = str(refused.value)
        assert "another agent is running on postgresql://" in message
        assert f"nyxmon-agent pid={os.getpid()}" in message
        claim.release()
        other.claim_agent().release()


def test_claims_on_other_schemas_are_independent(schemas: PgSchemas) -> None:
    with (
        PostgresStore(schemas.new(), readers=1) as one,
        PostgresStore(schemas.new(), readers=1) as two,
    ):
        first = one.claim_agent()
        second = two.claim_agent()
        first.release()
        second.release()


_HOLDER = """
import sys, time
from nyxmon.store.postgres import PostgresStore
store = PostgresStore(sys.argv[1], readers=1)
claim = store.claim_agent()
print("claimed", flush=True)
time.sleep(120)
"""


def test_the_claim_goes_with_a_killed_holder(schemas: PgSchemas) -> None:
    dsn = schemas.new()
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, dsn], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "claimed"
        with PostgresStore(dsn, readers=1) as store:
            with pytest.raises(StoreError, match=f"pid={holder.pid}"):
                store.claim_agent()
            holder.send_signal(signal.SIGKILL)
            holder.wait(10)
            deadline = time.monotonic() + 20
            while True:  # the server notices the closed socket at once, or nearly
                try:
                    store.claim_agent().release()
                    break
                except StoreError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)
        if holder.stdout is not None:
            holder.stdout.close()
