"""``pat()`` globs, matched the way Gatus matches them.

Gatus hands a pattern to Go's ``filepath.Match`` after removing every ``/`` from both the
pattern and the text (a ``/`` is a path separator there), so its syntax is Go's:

- ``*`` any run of characters, ``?`` one character;
- ``[abc]``, ``[a-z0-9]``, ``[^0-9]`` a character class (``^`` negates; it must not be empty);
- ``\\c`` the character ``c`` itself (``\\*``, ``\\[``), inside a class too.

A pattern Go would refuse (an unclosed ``[``, an empty class, a ``\\`` at the end) makes Gatus's
condition quietly false on every run; here it is refused when the condition is compiled.

Matching follows Go's algorithm: the pattern splits at stars into chunks of fixed width (each
element is one character), and each chunk is taken at its leftmost place after the one before,
the last one at the very end. Every chunk is found with one regex search or ``str.find``, so a
glob of many stars against a large body stays about linear instead of backtracking.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Glob", "GlobError", "compile_glob"]

_SEPARATOR = "/"


class GlobError(ValueError):
    """A pattern Go's ``filepath.Match`` would refuse; ``index`` is where, in the pattern."""

    def __init__(self, reason: str, index: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.index = index


@dataclass(frozen=True, slots=True)
class _Chunk:
    """A run of one-character elements after (``star``) or without a leading ``*``."""

    star: bool
    width: int
    literal: str | None  # the chunk's text when it has no ``?`` or class
    regex: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class Glob:
    """A compiled ``pat()`` pattern: :meth:`matches` tells whether a text matches it whole."""

    source: str
    chunks: tuple[_Chunk, ...]
    regex: re.Pattern[str]  # the same pattern as one regex, to describe it (and test against)

    def matches(self, text: str) -> bool:
        if self.source == "*":
            return True
        name = text.replace(_SEPARATOR, "")
        position, last = 0, len(self.chunks) - 1
        for index, chunk in enumerate(self.chunks):
            if chunk.star and chunk.width == 0:
                return True  # a trailing star takes the rest
            if index == last:
                start = len(name) - chunk.width
                if start < position or (not chunk.star and start != position):
                    return False
                return _match_at(chunk, name, start)
            if not chunk.star:
                if not _match_at(chunk, name, position):
                    return False
                position += chunk.width
                continue
            found = _search(chunk, name, position)
            if found < 0:
                return False
            position = found + chunk.width
        return position == len(name)


def _match_at(chunk: _Chunk, name: str, start: int) -> bool:
    if chunk.literal is not None:
        return name.startswith(chunk.literal, start)
    return chunk.regex.match(name, start) is not None


def _search(chunk: _Chunk, name: str, start: int) -> int:
    if chunk.literal is not None:
        return name.find(chunk.literal, start)
    found = chunk.regex.search(name, start)
    return -1 if found is None else found.start()


def compile_glob(pattern: str) -> Glob:
    """Compile ``pattern``; :class:`GlobError` says what Go would refuse, and where."""
    stripped = pattern.replace(_SEPARATOR, "")
    chunks: list[_Chunk] = []
    whole: list[str] = []
    index, length = 0, len(stripped)
    while index < length or not chunks:
        star = False
        while index < length and stripped[index] == "*":
            star, index = True, index + 1
        parts: list[str] = []
        literal: list[str] | None = []
        width = 0
        while index < length and stripped[index] != "*":
            char = stripped[index]
            if char == "?":
                parts.append(".")
                literal = None
                index += 1
            elif char == "[":
                regex, index = _class(stripped, index, pattern)
                parts.append(regex)
                literal = None
            else:
                if char == "\\":
                    index += 1
                    if index >= length:
                        raise GlobError("a '\\' at the end of the pattern escapes nothing", index)
                    char = stripped[index]
                parts.append(re.escape(char))
                if literal is not None:
                    literal.append(char)
                index += 1
            width += 1
        text = "".join(parts)
        chunks.append(
            _Chunk(
                star,
                width,
                None if literal is None else "".join(literal),
                re.compile(text, re.DOTALL),
            )
        )
        whole.append((".*" if star else "") + text)
        if index >= length:
            break
    return Glob(pattern, tuple(chunks), re.compile("".join(whole), re.DOTALL))


def _class(text: str, start: int, pattern: str) -> tuple[str, int]:
    """The regex of the class opening at ``text[start]``, and the index after its ``]``."""
    index = start + 1
    negated = index < len(text) and text[index] == "^"
    if negated:
        index += 1
    ranges: list[str] = []
    count = 0
    while True:
        if index >= len(text):
            raise GlobError("'[' is never closed", start)
        if text[index] == "]" and count > 0:
            index += 1
            break
        low, index = _class_char(text, index, start)
        high = low
        if index < len(text) and text[index] == "-":
            high, index = _class_char(text, index + 1, start)
        count += 1
        if low == high:
            ranges.append(re.escape(low))
        elif low < high:
            ranges.append(f"{re.escape(low)}-{re.escape(high)}")
        # a range written backwards (z-a) matches nothing, as in Go
    if not ranges:
        return ("." if negated else "(?!)"), index
    return f"[{'^' if negated else ''}{''.join(ranges)}]", index


def _class_char(text: str, index: int, start: int) -> tuple[str, int]:
    if index >= len(text):
        raise GlobError("'[' is never closed", start)
    char = text[index]
    if char in "-]":
        raise GlobError(
            f"{char!r} must be escaped (\\{char}) or follow a character in a class", index
        )
    if char == "\\":
        index += 1
        if index >= len(text):
            raise GlobError("a '\\' at the end of the pattern escapes nothing", index)
        char = text[index]
    return char, index + 1
