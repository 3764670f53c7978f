"""The README's walk of one result names real functions: a rename that forgets it fails here."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

README = Path(__file__).resolve().parents[3] / "README.md"
_NAME_RE = re.compile(r"`((?:[a-z_]+\.)+[A-Za-z_]+(?:\.[A-Za-z_]+)?)`")


def _section(text: str, title: str) -> str:
    start = text.index(title)
    end = text.find("\n## ", start)
    return text[start : end if end != -1 else len(text)]


def _resolve(dotted: str) -> object:
    """``agent.intake.ResultIntake.deliver`` under ``nyxmon``: the longest importable module
    prefix, then attributes."""
    parts = f"nyxmon.{dotted}".split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            target = getattr(target, attribute)
        return target
    raise AssertionError(f"nothing importable in {dotted}")


def test_every_function_the_walk_names_exists() -> None:
    walk = _section(README.read_text(), "### The path of one result")
    names = [n for n in _NAME_RE.findall(walk) if "." in n and not n.startswith("nyxmon.")]
    assert len(names) >= 10, names
    missing = []
    for name in names:
        try:
            _resolve(name)
        except (AttributeError, AssertionError):
            missing.append(name)
    assert missing == []
