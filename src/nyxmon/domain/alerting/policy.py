"""Effective alert policies: defaults plus a check's overrides, and the rules a policy obeys.

A check stores only the keys it overrides (``Check.alert``, JSON-safe: durations as seconds,
route lists as lists), so changing ``defaults.alert`` changes every check that did not set its
own value. The config loader and the state machine share :func:`policy_problems`, so a policy
the file refuses is also one the machine refuses.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields, replace
from typing import Any

from nyxmon.domain.alerting.types import AlertPolicy
from nyxmon.errors import PolicyError

__all__ = [
    "DURATION_FIELDS",
    "MAX_FLAP_WINDOW",
    "MIN_FLAP_WINDOW",
    "POLICY_FIELDS",
    "apply_overrides",
    "policy_problems",
    "policy_to_dict",
]

POLICY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(AlertPolicy))
DURATION_FIELDS = frozenset({"retry_interval", "remind_every", "escalate_after"})
MIN_FLAP_WINDOW = 3
"""Fewer results cannot tell flapping from one honest change (0 switches detection off)."""
MAX_FLAP_WINDOW = 1000

_INT_FIELDS = frozenset(
    {
        "failure_threshold",
        "success_threshold",
        "retries",
        "degraded_threshold",
        "flap_window",
        "remind_max",
    }
)
_BOOL_FIELDS = frozenset({"send_on_resolved", "notify_degraded"})


def apply_overrides(policy: AlertPolicy, overrides: Mapping[str, Any]) -> AlertPolicy:
    """``policy`` with the keys of ``overrides`` replaced (as stored in ``Check.alert``).

    Raises :class:`~nyxmon.errors.PolicyError` naming an unknown key or a value of the wrong
    type; range rules are :func:`policy_problems`' job.
    """
    if not overrides:
        return policy
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        if key not in POLICY_FIELDS:
            raise PolicyError(f"unknown alert policy key {key!r}")
        changes[key] = _coerce(key, value)
    return replace(policy, **changes)


def _coerce(key: str, value: Any) -> Any:
    if key == "escalate_to":
        if isinstance(value, str) or not all(isinstance(v, str) for v in value):
            raise PolicyError(f"alert policy key {key!r} expects a list of route names")
        return tuple(value)
    if key in _BOOL_FIELDS:
        if not isinstance(value, bool):
            raise PolicyError(f"alert policy key {key!r} expects true or false, got {value!r}")
        return value
    if key in DURATION_FIELDS and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PolicyError(f"alert policy key {key!r} expects a number, got {value!r}")
    if key in _INT_FIELDS:
        if value != int(value):
            raise PolicyError(f"alert policy key {key!r} expects a whole number, got {value!r}")
        return int(value)
    return float(value)


def policy_to_dict(policy: AlertPolicy) -> dict[str, Any]:
    """Every key of ``policy`` as JSON-safe data (the inverse of ``apply_overrides``)."""
    data: dict[str, Any] = {}
    for name in POLICY_FIELDS:
        value = getattr(policy, name)
        data[name] = list(value) if isinstance(value, tuple) else value
    return data


def policy_problems(policy: AlertPolicy, interval: float | None = None) -> list[tuple[str, str]]:
    """``(key, message)`` for every rule ``policy`` breaks; empty when it is sound.

    ``interval`` is the check's interval: a retry must come sooner than the next regular run,
    or retries would slow detection down instead of speeding it up.
    """
    problems: list[tuple[str, str]] = []
    for name in ("failure_threshold", "success_threshold", "degraded_threshold"):
        if getattr(policy, name) < 1:
            problems.append((name, f"expected at least 1, got {getattr(policy, name)}"))
    if policy.retries < 0:
        problems.append(("retries", f"expected 0 or more, got {policy.retries}"))
    if policy.remind_max < 0:
        problems.append(("remind_max", f"expected 0 or more, got {policy.remind_max}"))
    window = policy.flap_window
    if window != 0 and not MIN_FLAP_WINDOW <= window <= MAX_FLAP_WINDOW:
        problems.append(
            (
                "flap_window",
                f"expected 0 (no flap detection) or {MIN_FLAP_WINDOW} to {MAX_FLAP_WINDOW} "
                f"results, got {window}",
            )
        )
    high, low = policy.flap_high, policy.flap_low
    if not (math.isfinite(high) and 0 < high <= 1):
        problems.append(("flap_high", f"expected a share above 0 and at most 1, got {high:g}"))
    elif not (math.isfinite(low) and 0 < low < high):
        problems.append(
            (
                "flap_low",
                f"expected a share above 0 and below flap_high ({high:g}), got {low:g}",
            )
        )
    for name in sorted(DURATION_FIELDS):
        value = getattr(policy, name)
        if value is not None and not (math.isfinite(value) and value > 0):
            problems.append((name, f"expected a duration above zero, got {value!r}"))
    retry = policy.retry_interval
    if retry is not None and interval is not None and retry >= interval:
        problems.append(
            (
                "retry_interval",
                f"expected a retry interval shorter than the check's interval "
                f"({interval:g}s), got {retry:g}s",
            )
        )
    return problems
