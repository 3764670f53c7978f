"""Which routes a notice goes to.

Every non-default route whose :class:`~nyxmon.domain.alerting.types.RouteMatch` takes the notice
gets it (several routes per notice are normal: chat for everything, a pager for critical). Only
when none matched do the default routes get it, still filtered by their own ``match`` (a default
route can be "everything else, if at least a warning"). An ESCALATION notice naming its routes
goes to exactly those. Service and check patterns are shell-style globs (``web-*``); a check
pattern matches the check's id or its name.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

from nyxmon.domain.alerting.types import Notice, NoticeKind, Route, RouteMatch, Severity

__all__ = ["SEVERITY_RANK", "matches", "routes_for"]

log = logging.getLogger(__name__)

SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


def _any_glob(patterns: Iterable[str], *values: str) -> bool:
    return any(fnmatchcase(value, pattern) for pattern in patterns for value in values if value)


def matches(
    match: RouteMatch,
    notice: Notice,
    check_service: str,
    check_labels: Mapping[str, str],
    check_name: str = "",
) -> bool:
    """Whether ``match`` takes ``notice`` (empty fields match everything)."""
    if SEVERITY_RANK[notice.severity] < SEVERITY_RANK[match.min_severity]:
        return False
    if match.kinds and notice.kind not in match.kinds:
        return False
    if match.services and not _any_glob(match.services, check_service):
        return False
    if match.checks and not _any_glob(match.checks, notice.check_id, check_name):
        return False
    return all(check_labels.get(key) == value for key, value in match.labels.items())


def routes_for(
    notice: Notice,
    check_service: str,
    check_labels: Mapping[str, str],
    routes: Iterable[Route],
    *,
    check_name: str = "",
) -> tuple[Route, ...]:
    """The routes ``notice`` goes to, in config order, each once."""
    known = list(routes)
    if notice.kind is NoticeKind.ESCALATION and notice.routes:
        by_name = {route.name: route for route in known}
        named = _unique(by_name[n] for n in notice.routes if n in by_name)
        missing = [n for n in notice.routes if n not in by_name]
        if missing:
            log.warning(
                "escalation %s of check %s names unknown route(s) %s; known: %s",
                notice.key,
                notice.check_id,
                ", ".join(missing),
                ", ".join(by_name) or "none",
            )
        if named:
            return named
    args = (notice, check_service, check_labels, check_name)
    chosen = [r for r in known if not r.default and matches(r.match, *args)]
    if not chosen:
        chosen = [r for r in known if r.default and matches(r.match, *args)]
    return _unique(chosen)


def _unique(routes: Iterable[Route]) -> tuple[Route, ...]:
    # Routes hold mappings, so they are not hashable: keep the first of each name.
    seen: dict[str, Route] = {}
    for route in routes:
        seen.setdefault(route.name, route)
    return tuple(seen.values())
