"""Sign-in sessions in the store: kept by hash, ended one by one, per user, by a new password,
counted, and cleaned once expired (the contract every store implements)."""

from __future__ import annotations

from store_helpers import T0, FakeClock

from nyxmon.service_layer.records.accounts import SessionRecord
from nyxmon.service_layer.records.upkeep import Retention
from nyxmon.service_layer.storage import Store
from nyxmon.web.sessions import Sessions


def _record(digest: str, user: str = "admin", *, expires: float = T0 + 3600) -> SessionRecord:
    return SessionRecord(digest, user, T0, T0, T0 + 7 * 86400, expires, "127.0.0.1", "curl")


def _add(store: Store, *records: SessionRecord) -> None:
    with store.transaction() as tx:
        for record in records:
            tx.auth.create_session(record)
        tx.commit()


def test_sessions_are_found_by_hash_and_ending_one_moves_the_count(store: Store) -> None:
    _add(store, _record("a" * 64), _record("b" * 64), _record("c" * 64, "bob"))
    assert store.find_session("a" * 64) == _record("a" * 64)
    assert [s.token_hash for s in store.list_sessions("admin")] == ["a" * 64, "b" * 64]
    before = store.session_revocations()
    with store.transaction() as tx:
        assert tx.auth.end_session("a" * 64)
        tx.commit()
    assert store.find_session("a" * 64) is None
    assert store.find_session("b" * 64) is not None
    assert store.session_revocations() == before + 1


def test_signing_a_user_out_everywhere_ends_only_that_users_sessions(store: Store) -> None:
    _add(store, _record("a" * 64), _record("b" * 64), _record("c" * 64, "bob"))
    with store.transaction() as tx:
        assert tx.auth.end_sessions("admin") == 2
        tx.commit()
    assert store.list_sessions("admin") == ()
    assert store.find_session("c" * 64) is not None


def test_a_new_password_ends_the_users_sessions_in_the_same_commit(store: Store) -> None:
    with store.transaction() as tx:
        tx.auth.put_user("admin", "$argon2id$one")
        tx.auth.put_user("bob", "$argon2id$one")
        tx.commit()
    _add(store, _record("a" * 64), _record("c" * 64, "bob"))
    before = store.session_revocations()
    with store.transaction() as tx:
        tx.auth.put_user("admin", "$argon2id$two")
        tx.commit()
    assert store.find_session("a" * 64) is None
    assert store.find_session("c" * 64) is not None
    assert store.session_revocations() > before


def test_an_uncommitted_ending_changes_nothing(store: Store) -> None:
    _add(store, _record("a" * 64))
    before = store.session_revocations()
    with store.transaction() as tx:
        tx.auth.end_sessions("admin")  # rolled back on exit
    assert store.find_session("a" * 64) is not None
    assert store.session_revocations() == before


def test_the_cleaner_deletes_expired_sessions_only(store: Store) -> None:
    _add(store, _record("a" * 64, expires=T0 + 10), _record("b" * 64, expires=T0 + 1000))
    store.cleaner_step(T0 + 100, Retention(raw_days=3, hourly_days=10, daily_days=40), max_rows=10)
    assert store.find_session("a" * 64) is None
    assert store.find_session("b" * 64) is not None


def test_sessions_expire_when_idle_and_at_their_absolute_end(
    store: Store, clock: FakeClock
) -> None:
    sessions = Sessions(store, max_age=1000.0, idle=100.0, clock=clock)
    raw, record = sessions.start_blocking("admin", client="10.0.0.1", user_agent="test")
    assert raw not in repr(store.list_sessions("admin"))  # only the hash is kept
    assert record.expires_at == clock.now + 100

    def live() -> bool:
        found = sessions.load_blocking(raw, sessions.revocations_blocking())
        if found is None or not sessions.live(found):
            return False
        touched = sessions.needs_touch(found)
        if touched is not None:
            sessions.touch_blocking(touched)
        return True

    for _ in range(12):  # used every 90 s: never idle for 100 s, but over after 1000 s
        clock.now += 90
        assert live() == (clock.now < record.ends_at)
    assert not live()
    raw2, _ = sessions.start_blocking("admin")
    clock.now += 101  # not used for longer than the idle limit
    assert sessions.load_blocking(raw2, sessions.revocations_blocking()) is not None
    assert not live()


def test_an_ended_session_is_refused_from_the_cache_too(store: Store, clock: FakeClock) -> None:
    sessions = Sessions(store, max_age=1000.0, idle=100.0, clock=clock)
    raw, _ = sessions.start_blocking("admin")
    count = sessions.revocations_blocking()
    assert sessions.cached(raw, count) == (False, None)  # a request's order: cache, then store
    assert sessions.load_blocking(raw, count) is not None
    assert sessions.cached(raw, count)[0]
    with store.transaction() as tx:  # another process signs the user out
        tx.auth.end_sessions("admin")
        tx.commit()
    moved = sessions.revocations_blocking()
    assert moved > count
    assert sessions.cached(raw, moved) == (False, None)
    assert sessions.load_blocking(raw, moved) is None
