"""NyxMon's YAML config file: loading, ``${VAR}`` substitution, validation, and its models.

``load_config(path)`` gives a :class:`LoadedConfig` (agent settings, services and checks, alert
routes, maintenance windows and each check's alert policy) or raises
:class:`ConfigValidationError` naming every problem as ``file:line: key.path: message``.
``validate_config_file(path)`` reports instead of raising. The check models are shared with the
REST API through :func:`check_adapter`, :func:`check_config_type` and :func:`validate_check`.
"""

from __future__ import annotations

from nyxmon.config._text import format_path
from nyxmon.config.checks import (
    COMMON_CHECK_FIELDS,
    CheckBase,
    ConditionCompiler,
    Registry,
    check_adapter,
    check_config_type,
    check_models,
    check_params,
    unobserved,
)
from nyxmon.config.durations import (
    MAX_DURATION,
    MAX_INTERVAL,
    MAX_TIMEOUT,
    Duration,
    IntervalDuration,
    PositiveDuration,
    TimeoutDuration,
    is_duration,
    parse_duration,
    spell_duration,
)
from nyxmon.config.issues import ConfigIssue, ConfigValidationError
from nyxmon.config.jsonschema import config_json_schema
from nyxmon.config.loader import parse_value
from nyxmon.config.report import ValidationReport, format_report, validate_config_file
from nyxmon.config.semantics import MIN_INTERVAL
from nyxmon.config.settings import (
    AgentConfig,
    CheckDefaults,
    LoadedConfig,
    RetentionPolicy,
    WebConfig,
)
from nyxmon.config.single_check import check_from_spec, check_rules, new_check, validate_check
from nyxmon.config.validate import load_config, load_config_text

__all__ = [
    "COMMON_CHECK_FIELDS",
    "MAX_DURATION",
    "MAX_INTERVAL",
    "MAX_TIMEOUT",
    "MIN_INTERVAL",
    "AgentConfig",
    "CheckBase",
    "CheckDefaults",
    "ConditionCompiler",
    "ConfigIssue",
    "ConfigValidationError",
    "Duration",
    "IntervalDuration",
    "LoadedConfig",
    "PositiveDuration",
    "Registry",
    "RetentionPolicy",
    "TimeoutDuration",
    "ValidationReport",
    "WebConfig",
    "check_adapter",
    "check_config_type",
    "check_from_spec",
    "check_models",
    "check_params",
    "check_rules",
    "config_json_schema",
    "format_path",
    "format_report",
    "is_duration",
    "load_config",
    "load_config_text",
    "new_check",
    "parse_duration",
    "parse_value",
    "spell_duration",
    "unobserved",
    "validate_check",
    "validate_config_file",
]
