"""What is wrong with a config, and where: one :class:`ConfigIssue` per problem.

Every problem in a file is collected (not only the first), so a user fixes a file in one round
instead of one error per run. The same records come back from the API's check validation, where
there is no file and no line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from nyxmon.errors import ConfigError

__all__ = ["ConfigIssue", "ConfigValidationError", "KeyPath", "ReportIssue"]

KeyPath = tuple[str | int, ...]
"""Where in the document: ``("services", 0, "checks", 2, "interval")``."""

ReportIssue = Callable[[KeyPath, str], None]
"""Records one problem found at a key path (the validation passes take one for errors and one
for warnings)."""


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem: ``file:line: key.path: message`` (file and line are None for API input)."""

    file: str | None
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = f"{self.file}:{self.line}: " if self.line is not None else f"{self.file}: "
        elif self.line is not None:
            where = f"line {self.line}: "
        return f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"

    @property
    def sort_key(self) -> tuple[str, int, str]:
        return (self.file or "", self.line or 0, self.path)


class ConfigValidationError(ConfigError):
    """A config (file or API input) is invalid; ``errors`` lists every problem found.

    ``warnings`` are what the same run found worth a look besides (a file is judged once, so
    fixing its errors never brings new warnings to light). ``str()`` is every error, one per
    line, ordered by line, ready to print.
    """

    def __init__(self, errors: Iterable[ConfigIssue], warnings: Iterable[ConfigIssue] = ()) -> None:
        self.errors: list[ConfigIssue] = sorted(errors, key=lambda issue: issue.sort_key)
        self.warnings: list[ConfigIssue] = sorted(warnings, key=lambda issue: issue.sort_key)
        super().__init__("\n".join(str(issue) for issue in self.errors))
