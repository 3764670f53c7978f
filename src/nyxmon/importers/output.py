"""From a draft to a file that ``nyxmon config validate`` accepts, nothing dropped silently.

The check type registry (:data:`nyxmon.checktypes.CHECK_TYPES`) is consulted at run time: a
check of a type this NyxMon does not have yet is written commented out ("needs check type
tcp"), and written live, without any change here, once that type is registered. A condition
reading a placeholder its type never observes is written as a comment with the reason. Then
the file is validated with the config's own validator, in this process's environment; any
check, route or window it refuses is commented out with the validator's message, until the
file is valid. Every item held back is reported as dropped, with why.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from nyxmon.checktypes import CHECK_TYPES, CheckType, params_models
from nyxmon.config import ConfigValidationError, load_config_text
from nyxmon.domain.conditions import compile_condition
from nyxmon.domain.model import check_id_for, slugify
from nyxmon.errors import ConfigError
from nyxmon.importers.draft import CheckDraft, ImportDraft, MaintenanceDraft, RouteDraft
from nyxmon.importers.render import Rendered, render

__all__ = ["ImportFailed", "finish"]

_CHECK_PATH = re.compile(r"services\[(\d+)\]\.checks\[(\d+)\]")
_ROUTE_PATH = re.compile(r"alerting\.routes\[(\d+)\]")
_WINDOW_PATH = re.compile(r"maintenance\[(\d+)\]")
_ROUNDS = 20
_Holdable = CheckDraft | RouteDraft | MaintenanceDraft


class ImportFailed(ConfigError):
    """The importer produced a file its own validator refuses where no item can be held back
    (a defect of the importer, reported with the validator's messages)."""


def finish(
    draft: ImportDraft,
    title: str,
    *,
    environ: Mapping[str, str] | None = None,
    types: Mapping[str, CheckType] | None = None,
) -> str:
    """The YAML text for ``draft``, valid in ``environ``; holds and reports what must wait."""
    env = os.environ if environ is None else environ
    registry = CHECK_TYPES if types is None else types
    _name_uniquely(draft)
    for service in draft.services:
        for check in service.checks:
            _judge_type(check, registry)
    _hold_empty_selections(draft)
    rendered = render(draft, title)
    for _ in range(_ROUNDS):
        try:
            loaded = load_config_text(
                rendered.text, filename="<import>", environ=env, registry=params_models(registry)
            )
        except ConfigValidationError as exc:
            _hold_refused(exc, rendered)
            _hold_empty_selections(draft)
            rendered = render(draft, title)
            continue
        draft.report.warnings.extend(str(w) for w in loaded.warnings)
        _report_holds(draft)
        return rendered.text
    raise ImportFailed(f"the imported file is still invalid after {_ROUNDS} rounds")


def _name_uniquely(draft: ImportDraft) -> None:
    """Check names unique per service by slug (ids derive from them), ids recorded."""
    seen_services: set[str] = set()
    for service in draft.services:
        base, number = service.name, 2
        while slugify(service.name) in seen_services:
            service.name = f"{base} ({number})"
            number += 1
        seen_services.add(slugify(service.name))
        seen: set[str] = set()
        for check in service.checks:
            base, number = check.name, 2
            while slugify(check.name) in seen:
                check.name = f"{base} ({number})"
                number += 1
            if check.name != base:
                draft.report.approximated(check.source, f"renamed to {check.name!r}: name taken")
                check.notes.append(f"renamed from {base!r}: another check had that name")
            seen.add(slugify(check.name))
            check.check_id = check_id_for(service.name, check.name)


def _judge_type(check: CheckDraft, registry: Mapping[str, CheckType]) -> None:
    declared = registry.get(check.type)
    if declared is None:
        check.hold(f"needs check type {check.type} (not in this NyxMon yet)")
        return
    live: list[str] = []
    for condition in check.conditions:
        try:
            compiled = compile_condition(condition)
        except Exception as exc:  # the compiler's own error: the condition cannot be read
            check.held_conditions.append((condition, str(exc)))
            continue
        unseen = sorted(compiled.placeholders - declared.observes)
        if unseen:
            names = ", ".join(f"[{name}]" for name in unseen)
            check.held_conditions.append(
                (condition, f"{names} never observed by {check.type} checks")
            )
        else:
            live.append(condition)
    check.conditions = live


def _hold_empty_selections(draft: ImportDraft) -> None:
    """A route or window left without live checks would take every check: hold it."""
    for route in draft.routes:
        if _selects_nothing(route):
            route.hold("every check it took is commented out")
    for window in draft.maintenance:
        if not window.all and window.checks and all(c.held for c in window.checks):
            window.hold("every check it covered is commented out")


def _selects_nothing(route: RouteDraft) -> bool:
    return not route.match_all and all(check.held for check in route.checks)


def _hold_refused(error: ConfigValidationError, rendered: Rendered) -> None:
    unplaced: list[str] = []
    for issue in error.errors:
        held = False
        if match := _CHECK_PATH.match(issue.path):
            item: _Holdable | None = rendered.checks.get((int(match[1]), int(match[2])))
        elif match := _ROUTE_PATH.match(issue.path):
            item = rendered.routes.get(int(match[1]))
        elif match := _WINDOW_PATH.match(issue.path):
            item = rendered.maintenance.get(int(match[1]))
        else:
            item = None
        if match is not None and item is not None:
            key = issue.path[match.end() :].lstrip(".")
            item.hold(f"{key}: {issue.message}" if key else issue.message)
            held = True
        if not held:
            unplaced.append(str(issue))
    if unplaced:
        raise ImportFailed("the imported file is invalid:\n" + "\n".join(unplaced))


def _report_holds(draft: ImportDraft) -> None:
    """Live items as mapped, held ones as dropped with why (importers report the details)."""
    report = draft.report
    for service in draft.services:
        for check in service.checks:
            if check.held is not None:
                report.dropped(check.source, f"check written commented out: {check.held}")
            else:
                report.mapped(check.source, f"{check.type} check")
            for condition, why in check.held_conditions:
                report.dropped(check.source, f"condition {condition!r} commented out: {why}")
    for route in draft.routes:
        if route.held is not None:
            report.dropped(route.source, f"route written commented out: {route.held}")
        else:
            report.mapped(route.source, f"{route.type} route")
    for window in draft.maintenance:
        if window.held is not None:
            report.dropped(window.source, f"maintenance window commented out: {window.held}")
        else:
            report.mapped(window.source, "maintenance window")
