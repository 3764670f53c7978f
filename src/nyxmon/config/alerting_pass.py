"""The loader's alerting step: ``alerting:``, ``maintenance:`` and every alert policy, together.

These three refer to each other (escalation names routes, windows and routes name checks and
services), so they are judged in one pass after the services, with every problem collected like
the rest of the file. Routes are validated one by one, like checks, so a route with a bad URL
hides neither the other routes' problems nor the escalations that name it. The result is what
:class:`~nyxmon.config.settings.LoadedConfig` carries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from nyxmon.config._text import show
from nyxmon.config.alert_policy import PolicyCheck, overrides_of, policy_issues
from nyxmon.config.alerting import AlertingSection, RouteSection, route_issues, routes_from
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
    alerting, positions, route_names = _alerting_section(root.get("alerting"), section, error)
    if alerting is not None:
        route_issues(
            alerting,
            check_ids=check_ids,
            services=service_names,
            locate=locate,
            error=error,
            warn=warn,
            positions=positions,
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
        if check.complete
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


def _alerting_section(
    data: Any, section: Section[Any], error: ReportIssue
) -> tuple[AlertingSection | None, list[int], set[str]]:
    """The section with its valid routes, their indexes in the file, and the names of every
    route written (a route with another mistake still exists for the escalations naming it)."""
    path: KeyPath = ("alerting",)
    if data is None:
        return AlertingSection(), [], set()
    if not isinstance(data, dict):
        error(path, f"expected a mapping with key routes, got {show(data)}")
        return None, [], set()
    section(AlertingSection, {key: value for key, value in data.items() if key != "routes"}, path)
    raw_routes = data.get("routes")
    if raw_routes is None:
        return AlertingSection(), [], set()
    if not isinstance(raw_routes, list):
        error((*path, "routes"), f"expected a list of routes, got {show(raw_routes)}")
        return None, [], set()
    routes: list[RouteSection] = []
    positions: list[int] = []
    names: set[str] = set()
    for index, raw in enumerate(raw_routes):
        route: RouteSection | None = section(RouteSection, raw, (*path, "routes", index))
        if route is not None:
            routes.append(route)
            positions.append(index)
        if isinstance(raw, dict) and isinstance(raw.get("name"), str):
            names.add(raw["name"])
    return AlertingSection.model_construct(routes=routes), positions, names


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
