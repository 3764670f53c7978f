"""README's "What NyxMon guarantees" names the tests that check each claim: every one must exist,
so the section cannot promise what nothing checks any more."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
_REF_RE = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`")
_SHORT_RE = re.compile(r"`(test_\w+\.py)(?:::\w+)?`")


def _section(text: str, title: str) -> str:
    start = text.index(title)
    end = text.find("\n## ", start)
    return text[start : end if end != -1 else len(text)]


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    }


def test_every_test_the_guarantees_name_exists() -> None:
    section = _section((ROOT / "README.md").read_text(), "## What NyxMon guarantees")
    refs = _REF_RE.findall(section)
    assert len(refs) >= 10, refs
    missing = []
    for file, name in refs:
        path = ROOT / file
        if not path.is_file():
            missing.append(file)
        elif name and name not in _test_names(path):
            missing.append(f"{file}::{name}")
    assert missing == []
    named_files = {Path(file).name for file, _ in refs}
    shorthand = set(_SHORT_RE.findall(section))
    assert shorthand <= named_files, "a short name refers to a file named in full elsewhere"
