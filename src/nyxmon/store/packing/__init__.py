"""Packing results for storage: templates for what repeats, integer columns for what varies.

Shared by every store (SQLite now, PostgreSQL later): pure Python, no driver. A store keeps
recent results one row each and moves each check's rolled-up hour into a block
(:func:`encode_block`) whose message/timings/details templates (:func:`split_template`) are
stored once per check.
"""

from __future__ import annotations

from nyxmon.store.packing._blocks import (
    BlockCore,
    BlockRows,
    PackedRow,
    decode_core,
    decode_rows,
    encode_block,
)
from nyxmon.store.packing._templates import (
    FRACTION,
    PART,
    PLACEHOLDER,
    join_template,
    quantize_timings,
    split_result,
    split_template,
)

__all__ = [
    "FRACTION",
    "PART",
    "PLACEHOLDER",
    "BlockCore",
    "BlockRows",
    "PackedRow",
    "decode_core",
    "decode_rows",
    "encode_block",
    "join_template",
    "quantize_timings",
    "split_result",
    "split_template",
]
