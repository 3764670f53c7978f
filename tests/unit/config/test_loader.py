"""The YAML loader: data plus the line of every key, strict about duplicates and syntax."""

from __future__ import annotations

import pytest

from nyxmon.config import ConfigValidationError
from nyxmon.config.loader import parse_yaml

TEXT = """\
agent:
  concurrency: 50
services:
  - name: Website
    checks:
      - name: homepage
        url: "http://${HOST:-localhost}/"
"""


def test_every_key_and_list_item_has_its_line() -> None:
    doc = parse_yaml(TEXT, filename="t.yaml", environ={})
    assert doc.locations[("agent", "concurrency")] == (2, 3)
    assert doc.locations[("services", 0)][0] == 4
    assert doc.locations[("services", 0, "checks", 0, "url")][0] == 7
    assert doc.data["services"][0]["checks"][0]["url"] == "http://localhost/"


def test_line_of_a_missing_key_falls_back_to_its_nearest_ancestor() -> None:
    doc = parse_yaml(TEXT, filename="t.yaml", environ={})
    assert doc.line_of(("services", 0, "checks", 0, "timeout")) == 6
    assert doc.line_of(("nowhere",)) == 1


def test_duplicate_key_is_an_issue_naming_both_lines() -> None:
    doc = parse_yaml("a: 1\nb: 2\na: 3\n", filename="t.yaml", environ={})
    (issue,) = doc.issues
    assert (issue.line, issue.path) == (3, "a")
    assert "first defined on line 1" in issue.message
    assert doc.data == {"a": 1, "b": 2}


@pytest.mark.parametrize(
    ("scalar", "value"),
    [
        pytest.param("no", "no", id="no-stays-text"),
        pytest.param("NO", "NO", id="norway-stays-text"),
        pytest.param("on", "on", id="on-stays-text"),
        pytest.param("true", True, id="true"),
        pytest.param("False", False, id="false"),
        pytest.param("1:30", "1:30", id="not-sexagesimal"),
        pytest.param("2024-01-01", "2024-01-01", id="not-a-date"),
        pytest.param("010", 10, id="leading-zero-is-decimal"),
        pytest.param("0o10", 8, id="octal"),
        pytest.param("0x1F", 31, id="hex"),
        pytest.param("1.5", 1.5, id="float"),
        pytest.param("~", None, id="null"),
        pytest.param("", None, id="empty-is-null"),
        pytest.param("'42'", "42", id="quoted-number-is-text"),
        pytest.param("!!str 42", "42", id="explicit-str-tag"),
        pytest.param("30s", "30s", id="duration-text"),
    ],
)
def test_scalars_follow_the_yaml_1_2_core_schema(scalar: str, value: object) -> None:
    doc = parse_yaml(f"v: {scalar}\n", filename="t.yaml", environ={})
    assert doc.data == {"v": value}
    assert not doc.issues


def test_merge_keys_copy_an_anchor_and_explicit_keys_win() -> None:
    text = "base: &b {interval: 30s, timeout: 5s}\ncheck:\n  <<: *b\n  interval: 10s\n"
    doc = parse_yaml(text, filename="t.yaml", environ={})
    assert doc.data["check"] == {"interval": "10s", "timeout": "5s"}
    assert doc.locations[("check", "timeout")][0] == 1
    assert not doc.issues


def test_unset_variable_is_an_issue_with_its_key_path_and_line() -> None:
    doc = parse_yaml("a:\n  b: [x, '${NOPE}']\n", filename="t.yaml", environ={})
    (issue,) = doc.issues
    assert (issue.file, issue.line, issue.path) == ("t.yaml", 2, "a.b[1]")
    assert "NOPE" in issue.message


def test_variables_never_change_the_structure_of_the_file() -> None:
    doc = parse_yaml("a: ${X}\n", filename="t.yaml", environ={"X": "[1, 2]\nb: c"})
    assert doc.data == {"a": "[1, 2]\nb: c"}


def test_unsupported_tag_is_an_issue() -> None:
    doc = parse_yaml("a: !secret foo\n", filename="t.yaml", environ={})
    assert [(i.line, i.path) for i in doc.issues] == [(1, "a")]
    assert "unsupported YAML tag '!secret'" in doc.issues[0].message


def test_recursive_alias_is_an_issue_not_a_hang() -> None:
    doc = parse_yaml("a: &x [1, *x]\n", filename="t.yaml", environ={})
    assert [issue.path for issue in doc.issues] == ["a[1]"]


def test_non_scalar_key_is_an_issue() -> None:
    doc = parse_yaml("? [a, b]\n: 1\n", filename="t.yaml", environ={})
    assert "a key must be a plain string" in doc.issues[0].message


def test_syntax_error_raises_with_the_line_of_the_problem() -> None:
    with pytest.raises(ConfigValidationError) as caught:
        parse_yaml("a: 1\nb: [1, 2\nc: 3\n", filename="t.yaml", environ={})
    (issue,) = caught.value.errors
    assert issue.line == 3
    assert str(issue).startswith("t.yaml:3: invalid YAML: ")


def test_empty_document_is_none() -> None:
    assert parse_yaml("# nothing\n", filename="t.yaml", environ={}).data is None
