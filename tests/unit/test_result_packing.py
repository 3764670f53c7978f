"""Packing results: integer columns and templates read back exactly what was packed."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nyxmon.store.packing import (
    PackedRow,
    decode_core,
    decode_rows,
    encode_block,
    join_template,
    split_result,
    split_template,
)
from nyxmon.store.packing._columns import ColumnReader, pack_column, read_svarint, svarint

_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)
int64 = st.integers(min_value=-(2**62), max_value=2**62)


@given(st.lists(int64, min_size=1, max_size=300))
def test_a_column_reads_back_as_written(values: list[int]) -> None:
    packed = pack_column(values) + pack_column(values[::-1])
    reader = ColumnReader(packed, len(values))
    assert reader.column() == values
    assert reader.column() == values[::-1]
    assert reader.pos == len(packed)


def test_a_constant_column_costs_a_few_bytes_however_long() -> None:
    assert len(pack_column([200] * 1000)) <= 4
    assert len(pack_column(list(range(1_000_000, 1_060_000, 60)))) < 1000 // 4


@given(int64)
def test_svarints_round_trip(value: int) -> None:
    assert read_svarint(svarint(value), 0) == (value, len(svarint(value)))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
timings = st.dictionaries(
    st.text(max_size=10),
    st.floats(min_value=-10.0, max_value=1e5, allow_nan=False, allow_infinity=False)
    | st.sampled_from([math.inf, -math.inf, 0.0]),
    max_size=6,
)


@settings(max_examples=300)
@given(
    message=st.text(),
    details=st.dictionaries(st.text(max_size=10), json_values, max_size=6),
    timings=timings,
)
def test_a_template_and_its_numbers_give_back_the_message_details_and_timings(
    message: str, details: dict[str, Any], timings: dict[str, float]
) -> None:
    details_json = _ENCODER.encode(details)
    template, numbers = split_result(message, details_json, timings)
    got_message, got_timings, got_details = join_template(template, numbers)
    assert got_message == message
    assert _ENCODER.encode(dict(got_details)) == details_json
    assert got_timings.keys() == timings.keys()
    finite = all(math.isfinite(v) for v in timings.values())
    for key, value in timings.items():
        want = round(value * 1e6) / 1e6 if finite else value
        assert got_timings[key] == want


def test_results_that_differ_only_in_numbers_share_a_template() -> None:
    def split(ms: int, days: float, ip: str) -> str:
        details = {"cert_days_left": days, "ip": ip, "status": 200, "url": "https://a.example/v2"}
        return split_result(f"200 OK in {ms} ms", _ENCODER.encode(details), {"total": ms / 1e3})[0]

    assert (
        split(42, 89.53, "10.0.0.1") == split(1234, 89.05, "10.0.3.77") == split(7, 1.5, "1.2.3.4")
    )
    assert split(42, 89.53, "10.0.0.1") != split(42, 89.53, "fe80::1")


@pytest.mark.parametrize(
    "text",
    ["007 and 0.05", "1e-07", "12345678901234567890123", "\\u2713 v1.05.007", "-300", "a.0b.1"],
)
def test_numbers_are_lifted_only_where_they_print_back_the_same(text: str) -> None:
    template, numbers = split_result(text, "{}", {})
    assert join_template(template, numbers)[0] == text
    lifted, _ = split_template(text)
    # Too many digits for a 64-bit number: it stays in the template as it was.
    assert ("12345678901234567890123" in lifted) == ("12345678901234567890123" in text)


def _rows(n: int, templates: int = 1) -> list[PackedRow]:
    return [
        PackedRow(
            id=1000 + i * 5003 + i % 7,
            started_ms=1_767_225_600_000 + i * 60_000 + (i * 37) % 50,
            lag_ms=i % 4,
            duration_us=45_000 + (i * 7919) % 9000,
            status=(i % 4) | ((i % 5 == 0) << 2),
            template_id=-(2**63) + i % templates if templates > 1 else 99,
            numbers=(200, 40 + i % 9, 89, 153) if i % templates == 0 else (503,),
        )
        for i in range(n)
    ]


@pytest.mark.parametrize(("n", "templates"), [(1, 1), (2, 1), (60, 1), (60, 3), (1024, 2)])
def test_a_block_reads_back_its_rows(n: int, templates: int) -> None:
    rows = _rows(n, templates)
    data = encode_block(rows, rows[0].started_ms, rows[0].id)
    assert decode_rows(data, rows[0].started_ms, rows[0].id) == rows
    core = decode_core(data, rows[0].started_ms)
    assert core.started_ms == [r.started_ms for r in rows]
    assert core.duration_us == [r.duration_us for r in rows]
    assert core.status == [r.status for r in rows]


def test_a_steady_hour_packs_into_a_few_hundred_bytes() -> None:
    rows = _rows(60)
    assert len(encode_block(rows, rows[0].started_ms, rows[0].id)) < 60 * 8


def test_an_unknown_block_version_is_refused() -> None:
    with pytest.raises(ValueError, match="version"):
        decode_core(b"\x07\x00", 0)
