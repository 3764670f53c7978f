"""The ``alerting:`` section: routes that take notices to Apprise URLs or a native webhook.

Validation stays offline: an Apprise URL is only checked for a scheme (Apprise itself is not
imported here), a webhook URL for http(s), a template for Jinja2 syntax. Messages never repeat a
URL or secret in full, since by the time they are checked ``${VAR}`` tokens are substituted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from types import MappingProxyType
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict

from nyxmon.checktypes.booleans import Boolean
from nyxmon.config._text import did_you_mean, format_path, invalid, show
from nyxmon.config.issues import KeyPath, ReportIssue
from nyxmon.domain.alerting import NoticeKind, Route, RouteMatch, Severity

__all__ = ["AlertingSection", "RouteMatchSection", "RouteSection", "route_issues", "routes_from"]

_SECTION = ConfigDict(extra="forbid", frozen=True)
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://\S")
_KINDS = [kind.value for kind in NoticeKind]
_SEVERITIES = [severity.value for severity in Severity]


def _check_name(value: str) -> str:
    if not _NAME_RE.fullmatch(value):
        reason = (
            "expected a route name of letters, digits, '.', '_' and '-' (at most 64, starting "
            f"with a letter or digit), got {show(value)}"
        )
        raise invalid("route_name", reason)
    return value


def _one_of(value: str, known: list[str], what: str) -> str:
    if value in known:
        return value
    guess = did_you_mean(value, known)
    hint = f"did you mean {show(guess)}? " if guess else ""
    raise invalid(what, f"unknown {what} {show(value)}; {hint}(known: {', '.join(known)})")


def _check_kind(value: str) -> str:
    return _one_of(value, _KINDS, "notice kind")


def _check_severity(value: str) -> str:
    return _one_of(value, _SEVERITIES, "severity")


def _check_apprise_url(value: str) -> str:
    if not _SCHEME_RE.match(value.strip()):
        raise invalid(
            "apprise_url",
            "expected an Apprise URL with a scheme, like tgram://TOKEN/CHAT_ID or "
            "ntfy://host/topic (the value is not shown: it may hold a secret)",
        )
    return value.strip()


def _check_webhook_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        shown = f"{parts.scheme}://..." if parts.scheme else "a value without a scheme"
        raise invalid("webhook_url", f"expected an http:// or https:// URL, got {shown}")
    return value.strip()


def _check_template(value: str) -> str:
    import jinja2  # only when a template is set: most files have none

    try:
        jinja2.Environment(autoescape=False).parse(value)
    except jinja2.TemplateSyntaxError as exc:
        reason = f"invalid template: {exc.message} (template line {exc.lineno})"
        raise invalid("template", reason) from None
    return value


Template = Annotated[str, AfterValidator(_check_template)]


class RouteMatchSection(BaseModel):
    """Which notices a route takes; an empty list matches everything."""

    model_config = _SECTION

    services: list[str] = []
    checks: list[str] = []
    labels: dict[str, str] = {}
    kinds: list[Annotated[str, AfterValidator(_check_kind)]] = []
    min_severity: Annotated[str, AfterValidator(_check_severity)] = "info"


class RouteSection(BaseModel):
    """One route: ``type: apprise`` with ``urls``, or ``type: webhook`` with ``url``."""

    model_config = _SECTION

    name: Annotated[str, AfterValidator(_check_name)]
    type: Literal["apprise", "webhook"]
    urls: list[Annotated[str, AfterValidator(_check_apprise_url)]] = []
    url: Annotated[str, AfterValidator(_check_webhook_url)] | None = None
    headers: dict[str, str] = {}
    secret: str | None = None
    match: RouteMatchSection = RouteMatchSection()
    default: Boolean = False
    template: Template | None = None
    title_template: Template | None = None


class AlertingSection(BaseModel):
    """Where notices go."""

    model_config = _SECTION

    routes: list[RouteSection] = []


_WEBHOOK_ONLY = ("url", "headers", "secret")


def route_issues(
    section: AlertingSection,
    *,
    check_ids: Collection[str],
    services: Collection[str],
    locate: Callable[[KeyPath], int | None],
    error: ReportIssue,
    warn: ReportIssue,
    positions: Sequence[int] | None = None,
) -> None:
    """Rules across keys and routes: the keys each type needs, unique names, one default.

    ``positions`` are the routes' indexes in the file when ``section`` holds only some of them
    (those that passed the schema); by default the routes are the file's, in order.
    """
    names: dict[str, int] = {}
    default_at: int | None = None
    indexes = range(len(section.routes)) if positions is None else positions
    for index, route in zip(indexes, section.routes, strict=True):
        path: KeyPath = ("alerting", "routes", index)
        written = route.model_fields_set
        if route.type == "apprise":
            if not route.urls:
                error(path, 'missing required key "urls" (an apprise route needs at least one URL)')
            for key in _WEBHOOK_ONLY:
                if key in written:
                    error(
                        (*path, key), f"{show(key)} is for webhook routes; apprise routes take urls"
                    )
        else:
            if route.url is None:
                error(path, 'missing required key "url" (a webhook route needs the URL to POST to)')
            if "urls" in written:
                error((*path, "urls"), '"urls" is for apprise routes; a webhook route takes url')
        first = names.setdefault(route.name, index)
        if first != index:
            other: KeyPath = ("alerting", "routes", first)
            error(
                (*path, "name"),
                f"duplicate route name {show(route.name)}: already used by {format_path(other)} "
                f"(line {locate(other)})",
            )
        if route.default:
            if default_at is None:
                default_at = index
            else:
                other = ("alerting", "routes", default_at)
                error(
                    (*path, "default"),
                    f"only one route may be the default; {format_path(other)} (line "
                    f"{locate(other)}) already is",
                )
        _unknown_names(route.match.checks, check_ids, (*path, "match", "checks"), "check id", warn)
        _unknown_names(
            route.match.services, services, (*path, "match", "services"), "service", warn
        )


def _unknown_names(
    names: Sequence[str], known: Collection[str], path: KeyPath, what: str, warn: ReportIssue
) -> None:
    for position, name in enumerate(names):
        if name in known:
            continue
        guess = did_you_mean(name, known)
        hint = f"; did you mean {show(guess)}?" if guess else ""
        warn(
            (*path, position),
            f"no {what} {show(name)} in this file{hint} (it matches once one exists)",
        )


def routes_from(section: AlertingSection) -> tuple[Route, ...]:
    """The domain routes of a valid section."""
    return tuple(
        Route(
            name=route.name,
            kind=route.type,
            urls=tuple(route.urls),
            webhook_url=route.url,
            headers=MappingProxyType(dict(route.headers)),
            secret=route.secret,
            match=RouteMatch(
                services=tuple(route.match.services),
                checks=tuple(route.match.checks),
                labels=MappingProxyType(dict(route.match.labels)),
                kinds=tuple(NoticeKind(kind) for kind in route.match.kinds),
                min_severity=Severity(route.match.min_severity),
            ),
            default=route.default,
            template=route.template,
            title_template=route.title_template,
        )
        for route in section.routes
    )
