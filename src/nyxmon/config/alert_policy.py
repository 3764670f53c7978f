"""``defaults.alert`` and a check's ``alert:``: the alert policy keys, and the rules that join them.

Each key is checked on its own by the model (a threshold is a whole number of at least 1, a
duration is a duration); the rules that need the effective policy (``flap_low`` below
``flap_high``, a retry sooner than the next run, routes that exist) run once the whole file is
known, in :func:`policy_issues`, and report at the key the user wrote: the check's own when it
set it, ``defaults.alert`` when it inherited it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nyxmon.checktypes.booleans import Boolean
from nyxmon.config._text import did_you_mean, invalid, show
from nyxmon.config.durations import IntervalDuration, PositiveDuration, spell_duration
from nyxmon.config.issues import KeyPath, ReportIssue
from nyxmon.domain.alerting import AlertPolicy, apply_overrides, policy_problems

__all__ = ["AlertSection", "PolicyCheck", "overrides_of", "policy_issues"]

# Rules between two keys: when one is inherited, the message goes to the one the check set.
_PARTNERS = {"flap_low": "flap_high", "flap_high": "flap_low"}


_NOT_NULL = (
    *("failure_threshold", "success_threshold", "retries", "degraded_threshold", "flap_window"),
    *("flap_high", "flap_low", "remind_max", "escalate_to", "send_on_resolved", "notify_degraded"),
)


class AlertSection(BaseModel):
    """Alert policy keys; every one is optional here and falls back to the level above."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    failure_threshold: Annotated[int, Field(ge=1, le=1000)] | None = None
    success_threshold: Annotated[int, Field(ge=1, le=1000)] | None = None
    retries: Annotated[int, Field(ge=0, le=100)] | None = None
    retry_interval: IntervalDuration | None = None
    degraded_threshold: Annotated[int, Field(ge=1, le=1000)] | None = None
    flap_window: Annotated[int, Field(ge=0, le=1000)] | None = None
    flap_high: Annotated[float, Field(gt=0, le=1)] | None = None
    flap_low: Annotated[float, Field(gt=0, lt=1)] | None = None
    remind_every: PositiveDuration | None = None
    remind_max: Annotated[int, Field(ge=0, le=1000)] | None = None
    escalate_after: PositiveDuration | None = None
    escalate_to: list[str] | None = None
    send_on_resolved: Boolean | None = None
    notify_degraded: Boolean | None = None

    @field_validator(*_NOT_NULL)
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # ``null`` turns a duration off (no reminders); these keys have no "off", and the
        # alert machine would meet a None where it counts.
        if value is None:
            raise invalid("null", "expected a value, got null; leave the key out to inherit it")
        return value


def overrides_of(section: AlertSection | None) -> dict[str, Any]:
    """The keys ``section`` sets (an explicit ``null`` included), as JSON-safe data."""
    if section is None:
        return {}
    return section.model_dump(exclude_unset=True)


@dataclass(frozen=True, slots=True)
class PolicyCheck:
    """One check's policy inputs: where it is, its interval, and whether it set the interval."""

    path: KeyPath
    check_id: str
    interval: float
    own_interval: bool
    overrides: Mapping[str, Any]


def policy_issues(
    defaults: Mapping[str, Any],
    default_interval: float,
    checks: Sequence[PolicyCheck],
    routes: Collection[str],
    *,
    error: ReportIssue,
    warn: ReportIssue,
) -> tuple[AlertPolicy, dict[str, AlertPolicy]]:
    """The default policy and each check's effective one, reporting every rule broken.

    ``defaults`` are the keys of ``defaults.alert``; ``routes`` the names defined under
    ``alerting.routes`` (escalation targets must be among them).
    """
    base_path: KeyPath = ("defaults", "alert")
    base = apply_overrides(AlertPolicy(), defaults)
    base_problems = dict(policy_problems(base))
    for key, message in base_problems.items():
        error((*base_path, key), message)
    _check_routes(base, defaults, base_path, routes, error, warn)
    retry = base.retry_interval
    if base.retries and retry is not None and retry >= default_interval:
        error(
            (*base_path, "retry_interval"),
            f"expected a retry interval shorter than defaults.interval "
            f"({spell_duration(default_interval)}), got {spell_duration(retry)}",
        )
    policies: dict[str, AlertPolicy] = {}
    # Checks often share one override set (a YAML anchor): judge each distinct set once.
    judged: dict[tuple[tuple[str, Any], ...], tuple[AlertPolicy, list[tuple[str, str]]]] = {}
    for check in checks:
        if not check.overrides:
            policies[check.check_id] = base
            _check_retry(check, base, error)
            continue
        key_of = tuple(sorted((k, _hashable(v)) for k, v in check.overrides.items()))
        if key_of not in judged:
            merged = apply_overrides(base, check.overrides)
            judged[key_of] = (merged, policy_problems(merged))
        policy, problems = judged[key_of]
        policies[check.check_id] = policy
        own_path: KeyPath = (*check.path, "alert")
        for key, message in problems:
            if key in check.overrides:
                error((*own_path, key), message)
            elif _PARTNERS.get(key) in check.overrides:
                error((*own_path, _PARTNERS[key]), f"makes {key} invalid: {message}")
            elif key not in base_problems:  # pragma: no cover - every rule is single-key or paired
                error(own_path, f"{key}: {message}")
        _check_routes(policy, check.overrides, own_path, routes, error, warn)
        _check_retry(check, policy, error)
    return base, policies


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _check_routes(
    policy: AlertPolicy,
    written: Mapping[str, Any],
    path: KeyPath,
    routes: Collection[str],
    error: ReportIssue,
    warn: ReportIssue,
) -> None:
    if "escalate_to" not in written:
        return
    for index, name in enumerate(policy.escalate_to):
        if name not in routes:
            guess = did_you_mean(name, routes)
            if guess is not None:
                hint = f"did you mean {show(guess)}?"
            elif routes:
                hint = f"defined routes: {', '.join(sorted(routes))}"
            else:
                hint = "no routes are defined under alerting.routes"
            error((*path, "escalate_to", index), f"unknown route {show(name)}; {hint}")
    if policy.escalate_to and policy.escalate_after is None:
        warn(
            (*path, "escalate_to"),
            "escalate_to has no effect without escalate_after (how long down before escalating)",
        )


def _check_retry(check: PolicyCheck, policy: AlertPolicy, error: ReportIssue) -> None:
    retry = policy.retry_interval
    if not policy.retries or retry is None or retry < check.interval:
        return
    shown = f"{spell_duration(retry)}"
    if "retry_interval" in check.overrides:
        source = "the check's interval" if check.own_interval else "defaults.interval"
        error(
            (*check.path, "alert", "retry_interval"),
            f"expected a retry interval shorter than {source} "
            f"({spell_duration(check.interval)}), got {shown}",
        )
    elif check.own_interval:
        error(
            (*check.path, "interval"),
            f"interval {spell_duration(check.interval)} is not longer than the retry interval "
            f"{shown} inherited from defaults.alert.retry_interval; set a shorter "
            "alert.retry_interval on this check (or a longer interval)",
        )
    # Both inherited: already reported once at defaults.alert.retry_interval.
