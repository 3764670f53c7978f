"""Contract: alert states, transitions, the outbox, users, tokens and settings."""

from __future__ import annotations

import pytest
from store_helpers import FakeClock, add_checks, make_result

from nyxmon.domain.alerting.notices import CheckInfo
from nyxmon.domain.alerting.types import AlertState, Notice, NoticeKind, Severity
from nyxmon.errors import CheckNotFoundError
from nyxmon.service_layer.reconcile import reconcile_config
from nyxmon.service_layer.records.alerts import OutboxRow, OutboxUpdate, StateRow, Transition
from nyxmon.service_layer.records.batches import WriteBatch
from nyxmon.service_layer.storage import Store


def outbox_row(key: str, check_id: str = "a.one", at: float = 100.0) -> OutboxRow:
    notice = Notice(
        key=key,
        check_id=check_id,
        kind=NoticeKind.DOWN,
        state=AlertState.DOWN,
        previous=AlertState.UP,
        at=at,
        since=at - 30,
        severity=Severity.CRITICAL,
        message=f"title {key}",
        failing=("[STATUS] (503) == 200",),
    )
    return OutboxRow(key, "ops", notice, CheckInfo(check_id, "one", "a", {"team": "core"}), at)


def test_results_states_transitions_and_outbox_commit_in_one_batch(
    store: Store, clock: FakeClock
) -> None:
    add_checks(store, "a.one")
    receipt = store.write_batch(
        WriteBatch(
            results=[make_result("a.one", clock.now)],
            states=[StateRow("a.one", "down", clock.now, {"failures": 2}, clock.now)],
            transitions=[Transition("a.one", clock.now, "up", "down", "503", since=clock.now - 20)],
            outbox=[outbox_row("a.one:1:down:1"), outbox_row("a.one:1:down:1@sms")],
        )
    )
    assert len(receipt.result_ids) == 1
    assert len(receipt.outbox_ids) == 2
    assert store.load_states()["a.one"].snapshot == {"failures": 2}
    (kept,) = store.transitions("a.one")
    assert (kept.to_state, kept.at, kept.since) == ("down", clock.now, clock.now - 20)
    pending = store.outbox(status="pending")
    assert [item.key for item in pending] == ["a.one:1:down:1", "a.one:1:down:1@sms"]
    assert pending[0].notice == outbox_row("a.one:1:down:1").notice
    assert pending[0].check == CheckInfo("a.one", "one", "a", {"team": "core"})
    assert (pending[0].check_id, pending[0].kind, pending[0].route) == ("a.one", "down", "ops")


def test_a_batch_with_a_bad_row_commits_none_of_its_alerting_rows(
    store: Store, clock: FakeClock
) -> None:
    add_checks(store, "a.one")
    with pytest.raises(CheckNotFoundError):
        store.write_batch(
            WriteBatch(
                results=[make_result("a.one", clock.now), make_result("a.gone", clock.now)],
                states=[StateRow("a.one", "down", clock.now, {}, clock.now)],
                outbox=[outbox_row("k1")],
            )
        )
    assert store.load_states() == {}
    assert store.outbox() == ()


def test_an_outbox_key_is_never_queued_twice(store: Store) -> None:
    add_checks(store, "a.one")
    first = store.write_batch(WriteBatch(outbox=[outbox_row("same")]))
    again = store.write_batch(WriteBatch(outbox=[outbox_row("same"), outbox_row("other")]))
    assert first.outbox_ids[0] is not None
    assert again.outbox_ids[0] is None, "the repeated key is skipped"
    assert again.outbox_ids[1] is not None
    assert [i.key for i in store.outbox()] == ["same", "other"]


def test_outbox_updates_record_retries_and_delivery(store: Store) -> None:
    add_checks(store, "a.one")
    (row_id,) = store.write_batch(WriteBatch(outbox=[outbox_row("k")])).outbox_ids
    store.write_batch(
        WriteBatch(outbox_updates=[OutboxUpdate(row_id, "pending", 1, 160.0, "HTTP 503")])
    )
    assert store.outbox(status="pending", due_before=150.0) == ()
    (retry,) = store.outbox(status="pending", due_before=170.0)
    assert (retry.attempts, retry.last_error) == (1, "HTTP 503")
    store.write_batch(
        WriteBatch(outbox_updates=[OutboxUpdate(row_id, "delivered", 2, 160.0, "", 165.0)])
    )
    assert store.outbox_counts() == {"delivered": 1}
    assert store.outbox(status="delivered")[0].delivered_at == 165.0


def test_states_of_deleted_checks_go_with_them(store: Store, clock: FakeClock) -> None:
    add_checks(store, "a.one", "a.two")
    store.write_batch(
        WriteBatch(
            states=[
                StateRow("a.one", "up", None, {}, clock.now),
                StateRow("a.two", "down", None, {}, 1.0),
            ],
            transitions=[Transition("a.two", 1.0, "up", "down")],
        )
    )
    with store.transaction() as tx:
        tx.checks.delete("a.two")
        tx.commit()
    assert set(store.load_states()) == {"a.one"}
    assert store.transitions() == ()


def test_transitions_come_newest_first_within_a_time_range(store: Store) -> None:
    add_checks(store, "a.one")
    store.write_batch(
        WriteBatch(
            transitions=[
                Transition("a.one", at, "up" if i % 2 else "down", "down" if i % 2 else "up")
                for i, at in enumerate((10.0, 20.0, 30.0, 40.0))
            ]
        )
    )
    assert [t.at for t in store.transitions("a.one", since=15, until=40)] == [30.0, 20.0]
    assert len(store.transitions(limit=2)) == 2


def test_users_tokens_and_settings(store: Store) -> None:
    assert store.count_users() == 0
    with store.transaction() as tx:
        tx.auth.put_user("admin", "$argon2id$hash1")
        token = tx.auth.create_token("ci", "sha256:abc", "admin")
        tx.auth.set_setting("session_secret", "s3cret")
        tx.commit()
    assert store.get_user("admin").password_hash == "$argon2id$hash1"  # type: ignore[union-attr]
    assert store.find_token("sha256:abc") == token
    assert store.get_setting("session_secret") == "s3cret"
    with store.transaction() as tx:
        tx.auth.put_user("admin", "$argon2id$hash2")
        assert tx.auth.revoke_token(token.id)
        assert not tx.auth.revoke_token(token.id)
        tx.commit()
    assert store.get_user("admin").password_hash == "$argon2id$hash2"  # type: ignore[union-attr]
    assert store.find_token("sha256:abc") is None
    assert store.list_tokens()[0].revoked_at is not None
    assert store.get_setting("missing") is None


def test_each_revocation_advances_the_revocation_count_in_its_own_transaction(
    store: Store,
) -> None:
    assert store.token_revocations() == 0
    with store.transaction() as tx:
        first = tx.auth.create_token("a", "sha256:a", "admin")
        second = tx.auth.create_token("b", "sha256:b", "admin")
        tx.commit()
    assert store.token_revocations() == 0
    with store.transaction() as tx:
        assert tx.auth.revoke_token(first.id)
        # not committed: rolled back with the revocation itself
    assert store.token_revocations() == 0
    assert store.find_token("sha256:a") == first
    for token in (first, second, first):
        with store.transaction() as tx:
            tx.auth.revoke_token(token.id)
            tx.commit()
    assert store.token_revocations() == 2, "revoking a revoked token changes nothing"


def test_retention_removes_settled_notifications_and_old_history_only(store: Store) -> None:
    from nyxmon.domain.history.figures import DAY
    from nyxmon.service_layer.records.upkeep import Retention

    add_checks(store, "a.one")
    old, new = 1000.0, 1000.0 + 30 * DAY
    ids = store.write_batch(
        WriteBatch(
            outbox=[
                outbox_row("old-delivered", at=old),
                outbox_row("old-pending", at=old),
                outbox_row("new-delivered", at=new),
            ],
            transitions=[
                Transition("a.one", old, "up", "down"),
                Transition("a.one", new, "down", "up"),
            ],
        )
    ).outbox_ids
    store.write_batch(
        WriteBatch(
            outbox_updates=[
                OutboxUpdate(ids[0], "delivered", 1, old),
                OutboxUpdate(ids[2], "delivered", 1, new),
            ]
        )
    )
    now = new + DAY
    while store.cleaner_step(now, Retention(raw_days=14, hourly_days=20, daily_days=25)).more:
        pass
    assert sorted(i.key for i in store.outbox()) == ["new-delivered", "old-pending"]
    assert [t.at for t in store.transitions()] == [new]


def test_a_checks_alert_overrides_round_trip_and_count_as_a_change(store: Store) -> None:
    from store_helpers import make_check

    from nyxmon.domain.model import Service

    check = make_check("a.one", alert={"failure_threshold": 3, "remind_every": 600.0})
    first = reconcile_config(store, [Service("a")], [check])
    assert first.added == ("a.one",)
    assert dict(store.get_check("a.one").alert) == {  # type: ignore[union-attr]
        "failure_threshold": 3,
        "remind_every": 600.0,
    }
    assert reconcile_config(store, [Service("a")], [check]).unchanged == ("a.one",)
    changed = make_check("a.one", alert={"failure_threshold": 5})
    assert reconcile_config(store, [Service("a")], [changed]).changed == ("a.one",)
