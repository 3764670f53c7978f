"""``nyxmon config validate``: a report that never raises for bad content, and its text."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from nyxmon.config.checks import ConditionCompiler, Registry
from nyxmon.config.issues import ConfigIssue, ConfigValidationError
from nyxmon.config.settings import LoadedConfig
from nyxmon.config.validate import load_config

__all__ = ["ValidationReport", "format_report", "validate_config_file"]


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """The outcome of validating one file: every error and warning, and the config if valid."""

    file: str
    errors: tuple[ConfigIssue, ...]
    warnings: tuple[ConfigIssue, ...] = ()
    config: LoadedConfig | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def summary(self) -> str:
        """``"3 services, 12 checks (http: 8, dns: 4)"``, or ``"2 errors, 1 warning"`` when
        invalid."""
        if self.config is not None:
            return self.config.summary()
        count = len(self.errors)
        text = f"{count} error" if count == 1 else f"{count} errors"
        if self.warnings:
            many = len(self.warnings)
            text += f", {many} warning" if many == 1 else f", {many} warnings"
        return text


def validate_config_file(
    path: str | os.PathLike[str],
    *,
    environ: Mapping[str, str] | None = None,
    registry: Registry | None = None,
    compile_condition: ConditionCompiler | None = None,
) -> ValidationReport:
    """Validate the file at ``path``; problems end up in the report, never as exceptions."""
    file = os.fspath(path)
    try:
        config = load_config(
            file, environ=environ, registry=registry, compile_condition=compile_condition
        )
    except ConfigValidationError as exc:
        return ValidationReport(file=file, errors=tuple(exc.errors), warnings=tuple(exc.warnings))
    return ValidationReport(file=file, errors=(), warnings=config.warnings, config=config)


def format_report(report: ValidationReport) -> str:
    """Text for a terminal: every error and warning on its own line, in the order of the
    file's lines, then a verdict line."""
    issues = [(issue, str(issue)) for issue in report.errors]
    issues.extend((issue, _warning_line(issue)) for issue in report.warnings)
    lines = [line for _, line in sorted(issues, key=lambda pair: pair[0].sort_key)]
    if report.ok:
        lines.append(f"{report.file}: valid: {report.summary}")
    else:
        lines.append(f"{report.file}: invalid: {report.summary}")
    return "\n".join(lines)


def _warning_line(issue: ConfigIssue) -> str:
    where = f"{issue.file}:{issue.line}: " if issue.line is not None else f"{issue.file}: "
    return f"{where}warning: {issue.path}: {issue.message}"
