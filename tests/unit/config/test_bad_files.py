"""Every file under fixtures/bad is refused with exactly the errors its ``# expect:`` lines name.

The files are validated against the real probe registry.

An expectation is ``# expect: LINE: KEY.PATH: TEXT``: an error on that line, for that key path
(``-`` for none, as for YAML syntax errors), whose message contains TEXT. The file must produce
those errors and no others, in that order.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nyxmon.config import ConfigValidationError, load_config

from .conftest import FIXTURES

_EXPECT_RE = re.compile(r"^# expect: (\d+): (.+?): (.+)$")
BAD_FILES = sorted((FIXTURES / "bad").glob("*.yaml"))


def _expectations(path: Path) -> list[tuple[int, str, str]]:
    found = []
    for line in path.read_text().splitlines():
        match = _EXPECT_RE.match(line)
        if match:
            key_path = "" if match.group(2) == "-" else match.group(2)
            found.append((int(match.group(1)), key_path, match.group(3)))
    return found


def test_there_are_at_least_twenty_bad_files_and_each_names_its_errors() -> None:
    assert len(BAD_FILES) >= 20
    for path in BAD_FILES:
        assert _expectations(path), f"{path.name} has no '# expect:' line"


@pytest.mark.parametrize("path", BAD_FILES, ids=[p.stem for p in BAD_FILES])
def test_bad_file_is_refused_with_the_expected_line_path_and_message(path: Path) -> None:
    with pytest.raises(ConfigValidationError) as caught:
        load_config(path, environ={"NYX_PRESENT": "yes"})
    errors = caught.value.errors
    expected = _expectations(path)
    got = [str(issue) for issue in errors]
    assert len(errors) == len(expected), "\n".join(got)
    for issue, (line, key_path, text) in zip(errors, expected, strict=True):
        assert issue.file == str(path)
        assert (issue.line, issue.path) == (line, key_path), str(issue)
        assert text in issue.message, str(issue)
        where = f"{path}:{line}: " + (f"{key_path}: " if key_path else "")
        assert str(issue).startswith(where + issue.message)


def test_error_message_lists_every_error_one_per_line() -> None:
    path = FIXTURES / "bad" / "many_errors.yaml"
    with pytest.raises(ConfigValidationError) as caught:
        load_config(path, environ={})
    lines = str(caught.value).splitlines()
    assert len(lines) == 4
    assert [int(line.split(":")[1]) for line in lines] == [7, 9, 14, 17]
