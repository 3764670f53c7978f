"""A result's message, timings and details as a template plus the numbers that vary.

Most of what a probe reports repeats from run to run: the URL, the address, the status, the
certificate's end, the wording of the message. What changes is mostly numbers ("200 OK in
42 ms", the days a certificate has left, a timing). So the three are written as one canonical
JSON text (timings in whole microseconds), every decimal number in it is lifted out, and what
remains, the template, is stored once per check and referenced by id; each result keeps only
its numbers. Turning it back is exact: the numbers are put back where they were and the text
parsed, giving what the canonical JSON gave before (the same values a row of JSON gave).

Two kinds of numbers are lifted: whole numbers that print back as they were written (no
leading zero, at most 18 digits), and the digits after a decimal point (stored with a leading
1, so "05" is 105 and prints back as "05"): "89.05" and "89.53" then share one template.
Anything else stays in the template, so the round trip never depends on formatting.
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
    "PLACEHOLDER",
    "canonical_text",
    "join_template",
    "quantize_timings",
    "split_result",
    "split_template",
    "template_of",
]

#: Marks where a number was. JSON written with ``ensure_ascii`` escapes every control
#: character, so this one never occurs in the text itself.
PLACEHOLDER = "\x1f"
#: Marks where the digits after a decimal point were.
FRACTION = "\x1e"
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
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if not math.isfinite(value):
            return None
        micros = round(value * 1_000_000)
        if abs(micros) >= _MAX_US:
            return None
        out[key] = micros
    return out


def template_of(message: str, timings: Mapping[str, Any], details: Mapping[str, Any]) -> str:
    """The canonical text of a result's message, timings and details (numbers included)."""
    return canonical_text(message, _ENCODER.encode(dict(details)), timings)


def canonical_text(message: str, details_json: str, timings: Mapping[str, Any]) -> str:
    """:func:`template_of` with the details already written as canonical JSON (sorted keys,
    no spaces: the form stores keep them in)."""
    micros = quantize_timings(timings)
    if micros is None:
        return f"[{_ENCODER.encode(message)},{details_json},{{}},{_ENCODER.encode(dict(timings))}]"
    return f"[{_ENCODER.encode(message)},{details_json},{_ENCODER.encode(micros)},{{}}]"


def split_template(text: str) -> tuple[str, list[int]]:
    """``(template, numbers)`` of a canonical text."""
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


def split_result(
    message: str, details_json: str, timings: Mapping[str, Any]
) -> tuple[str, list[int]]:
    """What :func:`split_template` of :func:`canonical_text` gives, but cheaper: the details
    text (which seldom changes between one check's runs) is split once and remembered, and
    timings go straight into numbers without being written out and parsed again. The template
    may put fewer things into numbers than :func:`split_template` would; it joins back to the
    same text all the same."""
    micros = quantize_timings(timings)
    head, head_numbers = split_template(_ENCODER.encode(message))
    details, details_numbers = _split_details(details_json)
    if micros is None:
        tail, tail_numbers = split_template(f"{{}},{_ENCODER.encode(dict(timings))}")
    else:
        keys = tuple(sorted(micros))
        tail = _timings_template(keys)
        tail_numbers = [micros[key] for key in keys]
    return f"[{head},{details},{tail}]", head_numbers + list(details_numbers) + tail_numbers


@functools.lru_cache(maxsize=8192)
def _split_details(details_json: str) -> tuple[str, tuple[int, ...]]:
    template, numbers = split_template(details_json)
    return template, tuple(numbers)


@functools.lru_cache(maxsize=1024)
def _timings_template(keys: tuple[str, ...]) -> str:
    slots = ",".join(f"{_ENCODER.encode(key)}:{PLACEHOLDER}" for key in keys)
    return f"{{{slots}}},{{}}"


@functools.lru_cache(maxsize=4096)
def _pieces(template: str) -> tuple[tuple[str, ...], tuple[bool, ...]]:
    """The literal pieces of a template and, per slot, whether it holds a fraction."""
    return tuple(_SLOT.split(template)), tuple(c == FRACTION for c in _SLOT.findall(template))


def _frozen(value: Any) -> Mapping[str, Any]:
    if not value:
        return _EMPTY
    return MappingProxyType(value)


def join_template(
    template: str, numbers: Sequence[int]
) -> tuple[str, Mapping[str, float], Mapping[str, Any]]:
    """``(message, timings in seconds, details)`` of a template and its numbers."""
    if numbers:
        pieces, fractions = _pieces(template)
        if len(fractions) != len(numbers):
            raise ValueError(
                f"template has {len(fractions)} number slots, the result {len(numbers)} numbers"
            )
        parts = [pieces[0]]
        for number, fraction, piece in zip(numbers, fractions, pieces[1:], strict=True):
            parts.append(str(number)[1:] if fraction else str(number))
            parts.append(piece)
        text = "".join(parts)
    else:
        text = template
    message, details, micros, timings = json.loads(text)
    if micros:
        timings = {key: value / 1_000_000 for key, value in micros.items()}
    return message, _frozen(timings), _frozen(details)
