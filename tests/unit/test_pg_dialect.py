"""The shared store SQL as PostgreSQL reads it (nyxmon.store.postgres.dialect)."""

from __future__ import annotations

from nyxmon.store.postgres.dialect import bind, translate


def test_list_parameters_become_arrays_and_not_in_becomes_all() -> None:
    t = translate(
        "SELECT pk FROM checks WHERE id IN (SELECT value FROM json_each(?))"
        " AND pk NOT IN (SELECT value FROM json_each(?)) AND x = ?"
    )
    assert t.sql == "SELECT pk FROM checks WHERE id = ANY(%s) AND pk <> ALL(%s) AND x = %s"
    assert bind(t, ('["a", "b"]', "[1, 2]", 5)) == [["a", "b"], [1, 2], 5]


def test_a_negative_limit_means_no_limit() -> None:
    t = translate("SELECT id FROM checks ORDER BY id LIMIT ? OFFSET ?")
    assert t.sql.endswith("LIMIT %s OFFSET %s")
    assert bind(t, (-1, 20)) == [None, 20]
    assert bind(t, (10, 0)) == [10, 0]


def test_the_user_column_is_quoted_and_nothing_else_named_like_it() -> None:
    t = translate("SELECT user, user_agent FROM web_sessions WHERE user = ? AND users = 1")
    assert t.sql == ('SELECT "user", user_agent FROM web_sessions WHERE "user" = %s AND users = 1')


def test_named_parameters_percent_signs_and_sqlite_functions() -> None:
    t = translate(
        "SELECT CASE WHEN d < :floor THEN 0 ELSE 1 + CAST(ln(d / :floor) / :log_gamma AS"
        " INTEGER) END, sum(outcome = 0), '5%' FROM r WHERE a = :pk"
    )
    assert "CAST(trunc(ln(d / %(floor)s) / %(log_gamma)s) AS INTEGER)" in t.sql
    assert "sum((outcome = 0)::int)" in t.sql
    assert "'5%%'" in t.sql
    assert t.sql.endswith("a = %(pk)s")


def test_insert_or_replace_becomes_an_upsert_on_the_key() -> None:
    t = translate("INSERT OR REPLACE INTO rollup_hourly (check_pk, start, count) VALUES (?, ?, ?)")
    assert t.sql == (
        "INSERT INTO rollup_hourly (check_pk, start, count) VALUES (%s, %s, %s)"
        " ON CONFLICT (check_pk, start) DO UPDATE SET count = excluded.count"
    )
