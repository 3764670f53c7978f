"""The loader's alerting step: ``alerting:``, ``maintenance:`` and every alert policy, together.

These three refer to each other (escalation names routes, windows and routes name checks and
services), so they are judged in one pass after the services, with every problem collected like
the rest of the file. The result is what :class:`~nyxmon.config.settings.LoadedConfig` carries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from nyxmon.config._text import show
from nyxmon.config.alert_policy import PolicyCheck, overrides_of, policy_issues
from nyxmon.config.alerting import AlertingSection, route_issues, routes_from
from nyxmon.config.issues import KeyPath, ReportIssue
from nyxmon.config.maintenance import MaintenanceSection, maintenance_issues, windows_from
from nyxmon.config.schema import DefaultsSection
from nyxmon.config.semantics import ValidService
from nyxmon.domain.alerting import AlertPolicy, MaintenanceWindow, Route

__all__ = ["AlertingResult", "check_alerting"]

_M = TypeVar("_M", bound=BaseModel)
Section = Callable[[type[_M], Any, KeyPath], "_M | None"]


@dataclass(slots=True)
class AlertingResult:
    """Routes, windows and policies of a file (complete only when no error was reported)."""

    default_policy: AlertPolicy = field(default_factory=AlertPolicy)
    policies: dict[str, AlertPolicy] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    window_sections: list[MaintenanceSection] = field(default_factory=list)

    def maintenance(self) -> tuple[MaintenanceWindow, ...]:
        """The domain windows; call only once the file has no errors."""
        return windows_from(self.window_sections)


def check_alerting(
    root: dict[str, Any],
    defaults: DefaultsSection | None,
    services: Sequence[ValidService],
    *,
    section: Section[Any],
    locate: Callable[[KeyPath], int | None],
    error: ReportIssue,
    warn: ReportIssue,
) -> AlertingResult:
    """Validate the alerting parts of ``root``; ``section`` validates one model at a path."""
    result = AlertingResult()
    check_ids = [check.check_id for service in services for check in service.checks]
    service_names = [service.section.name for service in services]
    alerting: AlertingSection | None = section(AlertingSection, root.get("alerting"), ("alerting",))
    if alerting is not None:
        route_issues(
            alerting,
            check_ids=check_ids,
            services=service_names,
            locate=locate,
            error=error,
            warn=warn,
        )
    windows = _maintenance_sections(root.get("maintenance"), section, error)
    result.window_sections = [window for _, window in windows]
    maintenance_issues(
        windows,
        check_ids=check_ids,
        services=service_names,
        locate=locate,
        error=error,
        warn=warn,
    )
    if defaults is None or alerting is None:
        return result  # the file is refused already; policies would be judged against guesses
    route_names = {route.name for route in alerting.routes}
    default_interval = defaults.interval
    checks = [
        PolicyCheck(
            path=check.path,
            check_id=check.check_id,
            interval=check.spec.interval if check.spec.interval is not None else default_interval,
            own_interval=check.spec.interval is not None,
            overrides=overrides_of(check.spec.alert),
        )
        for service in services
        for check in service.checks
    ]
    result.default_policy, result.policies = policy_issues(
        overrides_of(defaults.alert),
        default_interval,
        checks,
        route_names,
        error=error,
        warn=warn,
    )
    result.routes = routes_from(alerting)
    return result


def _maintenance_sections(
    data: Any, section: Section[Any], error: ReportIssue
) -> list[tuple[KeyPath, MaintenanceSection]]:
    if data is None:
        return []
    if not isinstance(data, list):
        error(("maintenance",), f"expected a list of maintenance windows, got {show(data)}")
        return []
    valid: list[tuple[KeyPath, MaintenanceSection]] = []
    for index, raw in enumerate(data):
        path: KeyPath = ("maintenance", index)
        window: MaintenanceSection | None = section(MaintenanceSection, raw, path)
        if window is not None:
            valid.append((path, window))
    return valid
