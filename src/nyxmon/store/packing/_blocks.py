"""A block: one check's results of (part of) one hour, packed column by column.

Layout (version 1): a version byte, the number of results and the length of the first
section as varints, then two raw-deflate sections. The first holds what charts and uptime
read (start times, durations, status); the second the rest (ids, start lags, templates and
each result's numbers). A chart decompresses the first section only.

Start times and ids are stored relative to the block's ``first_ms`` and ``first_id``, which
the table keeps as key columns (so a block is found by time without being opened). Results
are in (start, id) order. The numbers of each template form a matrix stored column by
column, so a number that never changes (an address, a status) costs nothing per result.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from nyxmon.store.packing._columns import ColumnReader, pack_column, read_svarint, svarint

__all__ = ["BlockCore", "BlockRows", "PackedRow", "decode_core", "decode_rows", "encode_block"]

VERSION = 1
_LEVEL = 6


class PackedRow(NamedTuple):
    """One result as a block holds it: integers and a template id with its numbers (a named
    tuple: a page of a day's results builds thousands of them)."""

    id: int
    started_ms: int
    lag_ms: int
    duration_us: int
    status: int
    template_id: int
    numbers: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class BlockCore:
    """The chart columns of a block: start (ms), duration (µs), status per result."""

    started_ms: list[int]
    duration_us: list[int]
    status: list[int]


def _deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(_LEVEL, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def _inflate(data: bytes) -> bytes:
    return zlib.decompress(data, -15)


def encode_block(rows: Sequence[PackedRow], first_ms: int, first_id: int) -> bytes:
    """Pack ``rows`` (sorted by start then id; at least one) of one check."""
    if not rows:
        raise ValueError("a block needs at least one result")
    core = b"".join(
        (
            pack_column([r.started_ms - first_ms for r in rows]),
            pack_column([r.duration_us for r in rows]),
            pack_column([r.status for r in rows]),
        )
    )
    local: dict[int, int] = {}
    for row in rows:
        local.setdefault(row.template_id, len(local))
    rest = [
        pack_column([r.id - first_id for r in rows]),
        pack_column([r.lag_ms for r in rows]),
        pack_column([local[r.template_id] for r in rows]),
        svarint(len(local)),
    ]
    for template_id in local:
        members = [r.numbers for r in rows if r.template_id == template_id]
        width = len(members[0])
        if any(len(m) != width for m in members):
            raise ValueError(f"results of template {template_id} differ in how many numbers")
        rest.append(svarint(template_id) + svarint(width))
        rest.extend(pack_column([m[k] for m in members]) for k in range(width))
    core_z = _deflate(core)
    return (
        bytes((VERSION,))
        + svarint(len(rows))
        + svarint(len(core_z))
        + core_z
        + _deflate(b"".join(rest))
    )


def _header(data: bytes) -> tuple[int, int, int]:
    if not data or data[0] != VERSION:
        raise ValueError(f"unknown result block version {data[0] if data else None!r}")
    n, pos = read_svarint(data, 1)
    core_len, pos = read_svarint(data, pos)
    return n, pos, core_len


def decode_core(data: bytes, first_ms: int) -> BlockCore:
    """Start times, durations and status of a block's results (first section only)."""
    n, pos, core_len = _header(data)
    reader = ColumnReader(_inflate(data[pos : pos + core_len]), n)
    started = reader.column()
    if first_ms:
        started = list(map(first_ms.__add__, started))
    return BlockCore(started, reader.column(), reader.column())


class BlockRows:
    """A block's columns decoded; :meth:`row` builds one result's :class:`PackedRow` (only the
    ones a reader keeps need building)."""

    __slots__ = ("_numbers", "_templates", "durations", "ids", "lags", "started", "status")

    def __init__(self, data: bytes, first_ms: int, first_id: int) -> None:
        n, pos, core_len = _header(data)
        core = decode_core(data, first_ms)
        reader = ColumnReader(_inflate(data[pos + core_len :]), n)
        ids = reader.column()
        self.ids = list(map(first_id.__add__, ids)) if first_id else ids
        self.started = core.started_ms
        self.durations = core.duration_us
        self.status = core.status
        self.lags = reader.column()
        which = reader.column()
        groups: list[tuple[int, list[tuple[int, ...]]]] = []
        for _ in range(reader.svarint()):
            template_id = reader.svarint()
            width = reader.svarint()
            members = which.count(len(groups))
            columns = [reader.column(members) for _ in range(width)]
            groups.append(
                (template_id, list(zip(*columns, strict=True)) if width else [()] * members)
            )
        taken = [0] * len(groups)
        templates: list[int] = []
        numbers: list[tuple[int, ...]] = []
        for j in which:
            template_id, rows = groups[j]
            templates.append(template_id)
            numbers.append(rows[taken[j]])
            taken[j] += 1
        self._templates = templates
        self._numbers = numbers

    def __len__(self) -> int:
        return len(self.ids)

    def row(self, i: int) -> PackedRow:
        return PackedRow(
            self.ids[i],
            self.started[i],
            self.lags[i],
            self.durations[i],
            self.status[i],
            self._templates[i],
            self._numbers[i],
        )


def decode_rows(data: bytes, first_ms: int, first_id: int) -> list[PackedRow]:
    """Every result of a block, in (start, id) order."""
    rows = BlockRows(data, first_ms, first_id)
    return [rows.row(i) for i in range(len(rows))]
