"""A result's message, timings and details as a template plus the numbers that vary.

Most of what a probe reports repeats from run to run: the URL, the address, the status, the
certificate's end, the wording of the message. What changes is mostly numbers ("200 OK in
42 ms", the days a certificate has left, a timing). So a result's message and details are
written as canonical JSON, every decimal number in them is lifted out, and what remains, the
template, is stored once per check; each result keeps only its numbers (its timings, in whole
microseconds, are numbers too, their names part of the template). Turning it back is exact:
the numbers are put back where they were and the text parsed, giving what the canonical JSON
gave before.

Two kinds of numbers are lifted: whole numbers that print back as they were written (no
leading zero, at most 18 digits), and the digits after a decimal point (stored with a leading
1, so "05" is 105 and prints back as "05"): "89.05" and "89.53" then share one template.
Anything else stays in the template, so the round trip never depends on formatting.

A template is three parts joined by :data:`PART`: the message's JSON, the details' JSON, and
the timing names (``K["dns","total"]``) or, for timings that are no finite numbers, their JSON
(``F{...}``). Reading parses each part once per template and the details once per distinct
set of their numbers, so reading a steady check's results costs little more than building them.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

__all__ = [
    "FRACTION",
    "PART",
    "PLACEHOLDER",
    "join_template",
    "quantize_timings",
    "split_result",
    "split_template",
]

#: Marks where a number was. JSON written with ``ensure_ascii`` escapes every control
#: character, so none of these three ever occurs in the text itself.
PLACEHOLDER = "\x1f"
#: Marks where the digits after a decimal point were.
FRACTION = "\x1e"
#: Separates the three parts of a template.
PART = "\x1d"
_NUMBER = re.compile(r"(?<=\.)([0-9]{1,17})(?![0-9])|(?<![0-9])(0|[1-9][0-9]{0,17})(?![0-9])")
_SLOT = re.compile("[\x1e\x1f]")
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)
#: Timings beyond this many microseconds (about 31 years) are kept as floats in the template.
_MAX_US = 10**15
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def quantize_timings(timings: Mapping[str, Any]) -> dict[str, int] | None:
    """Timings in whole microseconds, or None if one is not a finite number of sane size."""
    out: dict[str, int] = {}
    for key, value in timings.items():
        if value.__class__ is not float and (
            isinstance(value, bool) or not isinstance(value, int | float)
        ):
            return None
        if not math.isfinite(value):
            return None
        micros = round(value * 1_000_000)
        if abs(micros) >= _MAX_US:
            return None
        out[key] = micros
    return out


def split_template(text: str) -> tuple[str, list[int]]:
    """``(template, numbers)`` of any text: the numbers lifted out, slots left in their place."""
    parts = _NUMBER.split(text)
    if len(parts) == 1:
        return text, []
    fractions, wholes = parts[1::3], parts[2::3]
    numbers = [
        int(whole) if fraction is None else int("1" + fraction)
        for fraction, whole in zip(fractions, wholes, strict=True)
    ]
    out = [parts[0]]
    for fraction, literal in zip(fractions, parts[3::3], strict=True):
        out.append(PLACEHOLDER if fraction is None else FRACTION)
        out.append(literal)
    return "".join(out), numbers


@functools.lru_cache(maxsize=8192)
def _split_cached(text: str) -> tuple[str, tuple[int, ...]]:
    template, numbers = split_template(text)
    return template, tuple(numbers)


def split_result(
    message: str, details_json: str, timings: Mapping[str, Any]
) -> tuple[str, list[int]]:
    """``(template, numbers)`` of a result; ``details_json`` is its details as canonical JSON
    (sorted keys, no spaces: the form stores keep them in)."""
    head, head_numbers = _split_cached(_ENCODER.encode(message))
    details, details_numbers = _split_cached(details_json)
    micros = quantize_timings(timings)
    if micros is None:
        tail = "F" + _ENCODER.encode(dict(timings))
        tail_numbers: list[int] = []
    else:
        keys = sorted(micros)
        tail = _names(tuple(keys))
        tail_numbers = [micros[key] for key in keys]
    return (
        f"{head}{PART}{details}{PART}{tail}",
        [*head_numbers, *details_numbers, *tail_numbers],
    )


@functools.lru_cache(maxsize=1024)
def _names(keys: tuple[str, ...]) -> str:
    return "K" + _ENCODER.encode(list(keys))


def _fill(pieces: Sequence[str], fractions: Sequence[bool], numbers: Sequence[int]) -> str:
    if len(fractions) != len(numbers):
        raise ValueError(
            f"template has {len(fractions)} number slots, the result {len(numbers)} numbers"
        )
    parts = [pieces[0]]
    for number, fraction, piece in zip(numbers, fractions, pieces[1:], strict=True):
        parts.append(str(number)[1:] if fraction else str(number))
        parts.append(piece)
    return "".join(parts)


@functools.lru_cache(maxsize=4096)
def _pieces(template: str) -> tuple[tuple[str, ...], tuple[bool, ...]]:
    """The literal pieces of a template part and, per slot, whether it holds a fraction."""
    return tuple(_SLOT.split(template)), tuple(c == FRACTION for c in _SLOT.findall(template))


@functools.lru_cache(maxsize=4096)
def _parsed(template: str) -> tuple[str, str, tuple[str, ...] | None, Mapping[str, Any], int, int]:
    """A template's message part, details part, timing names (None: timings are literal),
    literal timings, and how many numbers the message and the details take."""
    try:
        head, details, tail = template.split(PART)
    except ValueError:
        raise ValueError(f"not a result template: {template[:60]!r}") from None
    keys: tuple[str, ...] | None = None
    literal: Mapping[str, Any] = _EMPTY
    if tail.startswith("K"):
        keys = tuple(json.loads(tail[1:]))
    else:
        literal = _frozen(json.loads(tail[1:]))
    return head, details, keys, literal, len(_pieces(head)[1]), len(_pieces(details)[1])


def _frozen(value: Any) -> Mapping[str, Any]:
    if not value:
        return _EMPTY
    return MappingProxyType(value)


@functools.lru_cache(maxsize=8192)
def _message(head: str, numbers: tuple[int, ...]) -> str:
    text = _fill(*_pieces(head), numbers) if numbers else head
    message: str = json.loads(text)
    return message


@functools.lru_cache(maxsize=8192)
def _details(template: str, numbers: tuple[int, ...]) -> Mapping[str, Any]:
    text = _fill(*_pieces(template), numbers) if numbers else template
    return _frozen(json.loads(text))


def join_template(
    template: str, numbers: Sequence[int]
) -> tuple[str, Mapping[str, float], Mapping[str, Any]]:
    """``(message, timings in seconds, details)`` of a template and its numbers."""
    head, details, keys, literal, in_head, in_details = _parsed(template)
    cut = in_head + in_details
    if keys is None:
        if len(numbers) != cut:
            raise ValueError(f"template has {cut} number slots, the result {len(numbers)} numbers")
        timings = literal
    else:
        if len(numbers) != cut + len(keys):
            raise ValueError(
                f"template has {cut + len(keys)} number slots, the result {len(numbers)} numbers"
            )
        timings = (
            MappingProxyType({k: n / 1_000_000 for k, n in zip(keys, numbers[cut:], strict=True)})
            if keys
            else _EMPTY
        )
    return (
        _message(head, tuple(numbers[:in_head])),
        timings,
        _details(details, tuple(numbers[in_head:cut])),
    )
