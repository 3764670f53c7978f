"""The agent's claim on a SQLite file: exclusive, named, and gone with its holder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nyxmon.errors import StoreError
from nyxmon.store.sqlite import SqliteStore
from nyxmon.store.sqlite.agent_lock import AgentLock, lock_path_for


def test_a_second_claim_is_refused_naming_the_holder_until_the_first_is_released(
    tmp_path: Path,
) -> None:
    db = tmp_path / "nyxmon.db"
    with SqliteStore(db) as store, SqliteStore(db) as other:
        claim = store.claim_agent()
        with pytest.raises(StoreError) as refused:
            other.claim_agent()
        assert f"another agent is running on {db}" in str(refused.value)
        assert f"pid {os.getpid()}" in str(refused.value)
        claim.release()
        other.claim_agent().release()


def test_a_released_lock_leaves_an_empty_file_that_names_nobody(tmp_path: Path) -> None:
    db = tmp_path / "nyxmon.db"
    lock = AgentLock(db).acquire()
    assert str(os.getpid()) in lock_path_for(db).read_text()
    lock.release()
    assert lock_path_for(db).read_text() == ""
    assert not lock.held
