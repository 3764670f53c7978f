"""The ``alerting:`` section: routes that take notices to Apprise URLs, a native webhook or
Telegram.

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

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from nyxmon.checktypes.booleans import Boolean
from nyxmon.config._text import did_you_mean, format_path, invalid, show
from nyxmon.config.issues import KeyPath, ReportIssue
from nyxmon.domain.alerting import NoticeKind, Route, RouteMatch, Severity, TelegramTarget

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

_BOT_TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]{20,}")


def _check_bot_token(value: str) -> str:
    if not _BOT_TOKEN_RE.fullmatch(value.strip()):
        raise invalid(
            "bot_token",
            "expected a Telegram bot token like 123456789:AA... (digits, a colon, then the "
            "secret as BotFather gave it; the value is not shown)",
        )
    return value.strip()


def _check_chat_id(value: int | str) -> str:
    text = str(value).strip()
    if not re.fullmatch(r"-?\d+|@[A-Za-z][A-Za-z0-9_]{4,}", text):
        raise invalid(
            "chat_id",
            f"expected a numeric chat id (-100... for groups) or @channelname, got {show(text)}",
        )
    return text


class RouteMatchSection(BaseModel):
    """Which notices a route takes; an empty list matches everything."""

    model_config = _SECTION

    services: list[str] = []
    checks: list[str] = []
    labels: dict[str, str] = {}
    kinds: list[Annotated[str, AfterValidator(_check_kind)]] = []
    min_severity: Annotated[str, AfterValidator(_check_severity)] = "info"


class RouteSection(BaseModel):
    """One route: ``type: apprise`` with ``urls``, ``type: webhook`` with ``url``, or
    ``type: telegram`` with ``bot_token`` and ``chat_id``."""

    model_config = _SECTION

    name: Annotated[str, AfterValidator(_check_name)]
    type: Literal["apprise", "webhook", "telegram"]
    urls: list[Annotated[str, AfterValidator(_check_apprise_url)]] = []
    url: Annotated[str, AfterValidator(_check_webhook_url)] | None = None
    headers: dict[str, str] = {}
    secret: str | None = None
    bot_token: Annotated[str, AfterValidator(_check_bot_token)] | None = None
    chat_id: Annotated[int | str, AfterValidator(_check_chat_id)] | None = None
    topic: Annotated[int, Field(ge=1)] | None = None
    parse_mode: Literal["HTML", "MarkdownV2"] | None = None
    api_url: Annotated[str, AfterValidator(_check_webhook_url)] | None = None
    match: RouteMatchSection = RouteMatchSection()
    default: Boolean = False
    template: Template | None = None
    title_template: Template | None = None


class AlertingSection(BaseModel):
    """Where notices go."""

    model_config = _SECTION

    routes: list[RouteSection] = []


_ONLY: dict[str, tuple[str, ...]] = {
    "apprise": ("urls",),
    "webhook": ("url", "headers", "secret"),
    "telegram": ("bot_token", "chat_id", "topic", "parse_mode", "api_url"),
}
_NEEDS: dict[str, tuple[tuple[str, str], ...]] = {
    "apprise": (("urls", "an apprise route needs at least one URL"),),
    "webhook": (("url", "a webhook route needs the URL to POST to"),),
    "telegram": (
        ("bot_token", "a telegram route needs the bot's token"),
        ("chat_id", "a telegram route needs the chat to post to"),
    ),
}


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
        for key, why in _NEEDS[route.type]:
            if not getattr(route, key):
                error(path, f"missing required key {show(key)} ({why})")
        for other_type, keys in _ONLY.items():
            if other_type == route.type:
                continue
            for key in keys:
                if key in written:
                    error(
                        (*path, key),
                        f"{show(key)} is for {other_type} routes; {route.type} routes take "
                        + ", ".join(_ONLY[route.type]),
                    )
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
            telegram=_telegram_of(route),
        )
        for route in section.routes
    )


def _telegram_of(route: RouteSection) -> TelegramTarget | None:
    if route.type != "telegram" or route.bot_token is None or route.chat_id is None:
        return None
    return TelegramTarget(
        bot_token=route.bot_token,
        chat_id=str(route.chat_id),
        topic=route.topic,
        parse_mode=route.parse_mode,
        api_url=route.api_url or "https://api.telegram.org",
    )
