"""The shared store SQL, as PostgreSQL reads it.

The repositories, history reads, rollups, packing and retention of :mod:`nyxmon.store.sqlite`
are written in a small, mostly standard SQL over the same logical schema; the PostgreSQL store
runs the same modules (one implementation of the packed-results logic, not two that drift) and
translates the handful of SQLite spellings here, once per statement text (cached):

- ``?`` and ``:name`` placeholders become psycopg's ``%s`` and ``%(name)s``;
- ``x IN (SELECT value FROM json_each(?))`` (SQLite's way to bind a list) becomes
  ``x = ANY(%s)`` (``NOT IN``: ``x <> ALL(%s)``), and the bound JSON text is decoded into
  a list psycopg sends as an array;
- ``json_each(col)`` over a JSON text column, ``json_group_object``, ``sum(x = 0)``, the
  scalar ``max(a, b)`` of the template upsert, ``INSERT OR REPLACE`` of rollup rows, and
  ``CAST(... AS INTEGER)`` of the histogram bucket (SQLite truncates, PostgreSQL rounds);
- a negative ``LIMIT`` (SQLite's "no limit") is bound as NULL (PostgreSQL's);
- the column ``user`` is quoted (a reserved word: unquoted it is ``current_user``).

A statement the translation does not know passes through unchanged, so a new SQLite-only
spelling fails loudly in the contract suite (tests/integration/store) rather than silently.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Translated", "bind", "translate"]

_JSON_LIST = re.compile(r"(\b[\w.]+)( NOT)? IN \(SELECT value FROM json_each\(\?\)\)")
_JSON_LIST_MARK = "\x00jsonlist\x00"
_JSON_COLUMN = re.compile(r"json_each\(([a-z]+\.labels)\)")
_SUM_EQ = re.compile(r"\bsum\((\w+) = 0\)", re.IGNORECASE)
_USER = re.compile(r"(?<![\w.\"])user(?![\w\"(])")
_NAMED = re.compile(r"(?<!:):([a-z_][a-z0-9_]*)")
_REPLACE = re.compile(r"INSERT OR REPLACE INTO (\w+) \(([^)]*)\)(.*)$", re.DOTALL)
_BUCKET_CAST = re.compile(r"CAST\((ln\(.*?\) / %\(log_gamma\)s) AS INTEGER\)")
#: Conflict targets of the tables written with ``INSERT OR REPLACE``.
_KEYS = {"rollup_hourly": ("check_pk", "start"), "rollup_daily": ("check_pk", "start")}
_FIXED = {
    "json_group_object(id, pk)": "coalesce(json_object_agg(id, pk)::text, '{}')",
    "SET last_ms = max(last_ms, excluded.last_ms) WHERE template = excluded.template": (
        "SET last_ms = greatest(result_templates.last_ms, excluded.last_ms)"
        " WHERE result_templates.template = excluded.template"
    ),
    # Floating-point division as SQLite does it (numeric would be slower, and its ln()
    # would not match Python's math.log at bucket edges).
    "/ 1000000.0": "/ 1000000.0::float8",
    "/ 1000.0": "/ 1000.0::float8",
    "BEGIN IMMEDIATE": "BEGIN",
    # PostgreSQL 15 wants a name on every subquery in FROM.
    "AND started_ms < :end) GROUP BY bucket": "AND started_ms < :end) AS hour GROUP BY bucket",
    "SET value = CAST(value AS INTEGER) + 1": "SET value = CAST(settings.value AS integer) + 1",
}


@dataclass(frozen=True, slots=True)
class Translated:
    sql: str
    #: Positions of parameters bound as JSON text that PostgreSQL takes as an array.
    json_lists: tuple[int, ...] = ()
    #: Positions of LIMIT parameters (a negative one means no limit).
    limits: tuple[int, ...] = ()


def _replace_upsert(sql: str) -> str:
    match = _REPLACE.match(sql)
    if not match:
        return sql
    table, columns, rest = match.groups()
    keys = _KEYS[table]
    names = [c.strip() for c in columns.split(",")]
    updates = ", ".join(f"{c} = excluded.{c}" for c in names if c not in keys)
    return (
        f"INSERT INTO {table} ({columns}){rest}"
        f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> Translated:
    """``sql`` (SQLite spelling of the shared statements) for psycopg and PostgreSQL."""
    for old, new in _FIXED.items():
        sql = sql.replace(old, new)
    sql = _replace_upsert(sql)
    sql = _JSON_LIST.sub(
        lambda m: f"{m.group(1)} {'<> ALL' if m.group(2) else '= ANY'}({_JSON_LIST_MARK})", sql
    )
    sql = _JSON_COLUMN.sub(lambda m: f"json_each_text({m.group(1)}::json)", sql)
    sql = _SUM_EQ.sub(lambda m: f"sum(({m.group(1)} = 0)::int)", sql)
    sql = _USER.sub('"user"', sql)
    sql = sql.replace("%", "%%")
    sql = _NAMED.sub(lambda m: f"%({m.group(1)})s", sql)
    sql = _BUCKET_CAST.sub(lambda m: f"CAST(trunc({m.group(1)}) AS INTEGER)", sql)
    parts = re.split(f"(\\?|{re.escape(_JSON_LIST_MARK)})", sql)
    out: list[str] = []
    json_lists: list[int] = []
    limits: list[int] = []
    index = 0
    for part in parts:
        if part == "?" or part == _JSON_LIST_MARK:
            if part == _JSON_LIST_MARK:
                json_lists.append(index)
            elif "".join(out).rstrip().upper().endswith("LIMIT"):
                limits.append(index)
            out.append("%s")
            index += 1
        else:
            out.append(part)
    return Translated("".join(out), tuple(json_lists), tuple(limits))


def bind(translated: Translated, params: Any) -> Any:
    """``params`` as the translated statement takes them."""
    if isinstance(params, Mapping) or not (translated.json_lists or translated.limits):
        return params
    values: list[Any] = list(params)
    for i in translated.json_lists:
        values[i] = json.loads(values[i])
    for i in translated.limits:
        if isinstance(values[i], int) and values[i] < 0:
            values[i] = None
    return values
