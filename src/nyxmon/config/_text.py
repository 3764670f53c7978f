"""How values and key paths are spelled in messages, shared by every part of the config package."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Sequence

from pydantic_core import PydanticCustomError

__all__ = ["CUSTOM_ERROR_PREFIX", "did_you_mean", "format_path", "invalid", "show"]

CUSTOM_ERROR_PREFIX = "nyxmon_"

_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_MAX_SHOWN = 60


def show(value: object) -> str:
    """``value`` as the user would have typed it: ``"fast"``, ``30``, ``true``, ``a list``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        text = repr(value)  # a 401-digit number is shown by its start and its length
        return text if len(text) <= _MAX_SHOWN else f"{text[:20]}... ({len(text)} digits)"
    if isinstance(value, str):
        text = value if len(value) <= _MAX_SHOWN else value[: _MAX_SHOWN - 3] + "..."
        return json.dumps(text, ensure_ascii=False)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def format_path(path: Sequence[str | int]) -> str:
    """``("services", 1, "checks", 0, "interval")`` -> ``services[1].checks[0].interval``.

    Keys that are not plain words (label names with dots or spaces) are quoted in brackets so
    the path stays unambiguous.
    """
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENT_RE.fullmatch(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{json.dumps(part, ensure_ascii=False)}]")
    return "".join(out) or "(top level)"


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The closest of ``choices`` to a mistyped ``word``, or None when nothing is close."""
    options = list(choices)
    matches = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if matches:
        return matches[0]
    lowered = {choice.lower(): choice for choice in options}
    return lowered.get(word.lower().replace("-", "_"))


def invalid(kind: str, reason: str) -> PydanticCustomError:
    """A validation error whose ``reason`` is shown to the user word for word."""
    return PydanticCustomError(CUSTOM_ERROR_PREFIX + kind, "{reason}", {"reason": reason})
