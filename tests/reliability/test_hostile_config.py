"""Hostile config text through the loader: it ends in a config or in ``ConfigValidationError``
whose every issue names the file, a line inside it (or none) and a message; never another
exception, and within bounded memory.

Three generators: YAML-ish text from pieces that have broken parsers before (aliases, tags,
deep brackets, words YAML 1.1 reads as booleans, numbers past a float); the commented example
with one value anywhere replaced by a hostile one; and alias chains of any fan-out and depth.
"""

from __future__ import annotations

import copy
import tracemalloc
from pathlib import Path
from typing import Any

import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from nyxmon.config import ConfigValidationError, load_config_text
from tests.reliability._budget import budget

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "nyxmon.yaml"
EXAMPLE_DATA = yaml.safe_load(EXAMPLE.read_text())
MAX_TRACED_MB = 160

PIECES = [
    *[":", "-", " ", "  ", "\n", "\t", ",", "#", "|", ">", "? ", "~", "'", '"', "\\"],
    *["[", "]", "{", "}", "[" * 70, "]" * 70, "{a: " * 70],
    *["&a ", "*a", "&b ", "*b", "<<: ", "!!int ", "!!binary ", "!!python/object ", "!x "],
    *["---\n", "...\n", "%YAML 1.1\n", "${X}", "${X:-1}", "$${", "${", "\x00", "\ufeff", "é"],
    *["yes", "no", "on", "off", "true", "null", "0x1F", "0o17", "1_000", "1:30", ".inf", ".nan"],
    *["1" + "0" * 400, "9" * 5000, "1e400", "-1", "99999999999999999999999999999d", "1h"],
    *["services:", "interval: ", "timeout: ", "paused: ", "name: x", "type: http", "checks:"],
]


def assert_loads_or_names_its_problems(text: str) -> None:
    line_count = text.count("\n") + 2
    errors = None
    try:
        load_config_text(text, filename="f.yaml", environ={"X": "1"})
    except ConfigValidationError as exc:
        errors = exc.errors
    if errors is None:
        return
    assert errors, "a ConfigValidationError without issues"
    for issue in errors:
        assert issue.file == "f.yaml"
        assert issue.message.strip()
        assert issue.line is None or 1 <= issue.line <= line_count, str(issue)


@budget(150, 3000)
@given(st.lists(st.sampled_from(PIECES), max_size=60))
def test_yamlish_text_loads_or_names_its_problems(pieces: list[str]) -> None:
    assert_loads_or_names_its_problems("".join(pieces))


@budget(100, 2000)
@given(st.text(max_size=300))
def test_any_text_loads_or_names_its_problems(text: str) -> None:
    assert_loads_or_names_its_problems(text)


HOSTILE_VALUES: list[Any] = [
    10**400,
    -(10**400),
    1e308,
    float("inf"),
    float("nan"),
    -1,
    0,
    "yes",
    "off",
    "99999999999999999999999999999d",
    "1" + "0" * 400,
    "x" * 100_000,
    "${UNSET}",
    None,
    [],
    {},
    {"nested": {"deeper": [1, 2, {"k": "v"}]}},
    "<deep>",
    "<alias-chain>",
]
DEEP = "[" * 5000 + "]" * 5000
ALIAS_CHAIN = "&q [" + ", ".join(["1"] * 50) + "]"


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


PATHS = _paths(EXAMPLE_DATA)


def _replaced(path: tuple[Any, ...], value: Any) -> str:
    data = copy.deepcopy(EXAMPLE_DATA)
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    marker = value if isinstance(value, str) and value.startswith("<") else None
    parent[path[-1]] = "MARKER-VALUE" if marker else value
    text = yaml.safe_dump(data, sort_keys=False, width=1000)
    if marker == "<deep>":
        text = text.replace("MARKER-VALUE", DEEP)
    elif marker == "<alias-chain>":
        text = (
            "x-q: " + ALIAS_CHAIN + "\n" + text.replace("MARKER-VALUE", "[" + "*q, " * 99 + "*q]")
        )
    return text


@budget(120, 3000)
@given(path=st.sampled_from(PATHS), value=st.sampled_from(HOSTILE_VALUES))
def test_the_example_with_one_hostile_value_loads_or_names_it(
    path: tuple[Any, ...], value: Any
) -> None:
    assert_loads_or_names_its_problems(_replaced(path, value))


@budget(12, 200)
@given(
    fan_out=st.integers(min_value=1, max_value=30),
    levels=st.integers(min_value=1, max_value=12),
    merge=st.booleans(),
)
@example(fan_out=9, levels=9, merge=False)  # billion laughs
@example(fan_out=30, levels=4, merge=True)  # 810,000 values: past the bound
@example(fan_out=20, levels=4, merge=False)  # 160,000 values: within it
def test_alias_chains_of_any_shape_stay_within_bounded_memory(
    fan_out: int, levels: int, merge: bool
) -> None:
    text = "x-0: &a0 [" + ", ".join(["lol"] * fan_out) + "]\n"
    for level in range(1, levels + 1):
        if merge:
            keys = ", ".join(f"k{index}: *a{level - 1}" for index in range(fan_out))
            text += f"x-{level}: &a{level} {{<<: {{{keys}}}}}\n"
        else:
            text += f"x-{level}: &a{level} [{', '.join([f'*a{level - 1}'] * fan_out)}]\n"
    tracemalloc.start()
    try:
        assert_loads_or_names_its_problems(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MAX_TRACED_MB * 1_048_576, f"{peak / 1_048_576:.0f} MB traced"
