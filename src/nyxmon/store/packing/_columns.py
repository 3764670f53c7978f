"""Integer columns packed for size and decoded at C speed: frame of reference, optional delta.

A column of ``n`` integers is stored as its smallest value (the frame) and each value minus
it in the narrowest of 0, 1, 2, 4 or 8 bytes that fits; a column that varies little around a
moving value (ids, start times, a number that creeps) is stored as its first value and the
differences between neighbours instead, whichever of the two is smaller. A constant column
costs a few header bytes however long it is. Decoding is ``array.frombytes`` plus
``map``/``accumulate``: no per-value Python loop, so reading a day of results stays cheap.
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Sequence

__all__ = ["ColumnReader", "pack_column", "read_svarint", "svarint"]

_CODES = {1: "B", 2: "H", 4: "I", 8: "Q"}
for _width, _code in _CODES.items():
    if array(_code).itemsize != _width:  # pragma: no cover - every CPython we target
        raise ImportError(f"array type {_code!r} is not {_width} bytes wide here")


def svarint(value: int) -> bytes:
    """A signed integer as a zigzag LEB128 varint (small magnitudes take one byte)."""
    zz = (value << 1) ^ (value >> 63) if -(1 << 63) <= value < (1 << 63) else None
    if zz is None:
        raise ValueError(f"{value} does not fit in 64 bits")
    out = bytearray()
    while zz >= 0x80:
        out.append((zz & 0x7F) | 0x80)
        zz >>= 7
    out.append(zz)
    return bytes(out)


def read_svarint(data: bytes | memoryview, pos: int) -> tuple[int, int]:
    """``(value, next position)`` of the varint :func:`svarint` wrote at ``pos``."""
    shift = zz = 0
    while True:
        byte = data[pos]
        pos += 1
        zz |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
        shift += 7
    return (zz >> 1) ^ -(zz & 1), pos


def _width_of(span: int) -> int:
    if span == 0:
        return 0
    for width in (1, 2, 4):
        if span < 1 << (8 * width):
            return width
    return 8


def _frame(values: Sequence[int]) -> bytes:
    lo = min(values)
    width = _width_of(max(values) - lo)
    head = svarint(lo) + bytes((width,))
    if width == 0:
        return head
    return head + array(_CODES[width], [v - lo for v in values]).tobytes()


def pack_column(values: Sequence[int]) -> bytes:
    """``values`` (at least one) packed; :meth:`ColumnReader.column` reads them back."""
    plain = b"\x00" + _frame(values)
    if len(values) < 3:
        return plain
    deltas = [b - a for a, b in itertools.pairwise(values)]
    delta = b"\x01" + svarint(values[0]) + _frame(deltas)
    return delta if len(delta) < len(plain) else plain


class ColumnReader:
    """Reads packed columns of ``n`` values one after another from ``data``."""

    __slots__ = ("_data", "_n", "pos")

    def __init__(self, data: bytes, n: int, pos: int = 0) -> None:
        self._data = data
        self._n = n
        self.pos = pos

    def svarint(self) -> int:
        value, self.pos = read_svarint(self._data, self.pos)
        return value

    def column(self, n: int | None = None) -> list[int]:
        """The next column (of ``n`` values, default the reader's)."""
        n = self._n if n is None else n
        data = self._data
        mode = data[self.pos]
        self.pos += 1
        first = self.svarint() if mode == 1 else 0
        count = n - 1 if mode == 1 else n
        lo = self.svarint()
        width = data[self.pos]
        self.pos += 1
        if width == 0:
            values: list[int] = [lo] * count
        else:
            end = self.pos + count * width
            packed = array(_CODES[width])
            packed.frombytes(data[self.pos : end])
            self.pos = end
            values = list(map(lo.__add__, packed)) if lo else packed.tolist()
        if mode == 1:
            return list(itertools.accumulate(values, initial=first))
        return values
