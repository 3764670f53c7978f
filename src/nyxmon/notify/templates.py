"""Message templates: Jinja2 in a sandbox, with defaults for every kind of notice.

Routes may bring their own title and body templates (config is less trusted than code, hence
the sandbox). A custom template that fails to render is replaced by the default and the message
says so: a notification is never lost because of a template. Text only, so no autoescaping.

Variables: ``name`` (``service / check``), ``check`` (the check's name), ``check_id``,
``service``, ``group`` (the service's), ``labels`` (the check's, its service's included),
``kind``, ``state``, ``previous``, ``severity``, ``since``, ``at`` (POSIX seconds),
``elapsed`` (seconds in the state), ``duration`` (RECOVERED: seconds it was down), ``failing``
(conditions with actual values), ``message``, ``details``, ``link`` (the check's dashboard
page), ``public_url``, ``route``, ``key``. Filters: ``duration`` (``8040 -> "2 h 14 min"``:
:func:`~nyxmon.domain.durations.human_duration`, as on every page) and ``time``
(``-> "2025-11-23 19:06:00 UTC"``).

Jinja2 (~4 MB in the agent) is imported, and the defaults compiled, when the first message is
rendered or the first template validated: an agent that never notifies never holds it.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nyxmon.domain.alerting.notices import CheckInfo
from nyxmon.domain.alerting.types import Notice, NoticeKind, Route
from nyxmon.domain.durations import human_duration
from nyxmon.notify.records import OutgoingMessage

if TYPE_CHECKING:
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

__all__ = [
    "DEFAULT_BODIES",
    "DEFAULT_TITLES",
    "MessageRenderer",
    "format_time",
    "validate_template",
]

log = logging.getLogger(__name__)


def format_time(timestamp: float | None) -> str:
    """POSIX seconds as ``2025-11-23 19:06:00 UTC``."""
    if timestamp is None:
        return "unknown"
    moment = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


_TAIL = (
    "{% if message %}\n{{ message }}{% endif %}"
    "{% if failing %}\nFailing:{% for item in failing %}\n- {{ item }}{% endfor %}{% endif %}"
    "\nDashboard: {{ link }}"
)

DEFAULT_TITLES: Mapping[NoticeKind, str] = {
    NoticeKind.DOWN: "DOWN: {{ name }}",
    NoticeKind.RECOVERED: "RECOVERED: {{ name }}",
    NoticeKind.DEGRADED: "DEGRADED: {{ name }}",
    NoticeKind.FLAPPING: "FLAPPING: {{ name }}",
    NoticeKind.FLAPPING_ENDED: "SETTLED: {{ name }} is {{ state|upper }}",
    NoticeKind.REMINDER: "STILL DOWN: {{ name }} ({{ elapsed|duration }})",
    NoticeKind.ESCALATION: "ESCALATION: {{ name }} down for {{ elapsed|duration }}",
    NoticeKind.TEST: "NyxMon test notification ({{ route }})",
}

DEFAULT_BODIES: Mapping[NoticeKind, str] = {
    NoticeKind.DOWN: "{{ name }} is DOWN since {{ since|time }} ({{ elapsed|duration }})." + _TAIL,
    NoticeKind.RECOVERED: (
        "{{ name }} is {{ state|upper }} again"
        "{% if duration is not none %} after {{ duration|duration }} down{% endif %}"
        " (at {{ at|time }})." + _TAIL
    ),
    NoticeKind.DEGRADED: (
        "{{ name }} is DEGRADED since {{ since|time }}: it passes, but slowly or only in part."
        + _TAIL
    ),
    NoticeKind.FLAPPING: (
        "{{ name }} is changing state too often to alert on each change (since "
        "{{ since|time }}). Alerts resume when it settles; it was {{ previous|upper }}." + _TAIL
    ),
    NoticeKind.FLAPPING_ENDED: (
        "{{ name }} stopped flapping and is {{ state|upper }} (at {{ at|time }})." + _TAIL
    ),
    NoticeKind.REMINDER: (
        "{{ name }} is still DOWN: {{ elapsed|duration }} since {{ since|time }}." + _TAIL
    ),
    NoticeKind.ESCALATION: (
        "{{ name }} has been DOWN for {{ elapsed|duration }} (since {{ since|time }}) and is "
        "escalated to route {{ route }}." + _TAIL
    ),
    NoticeKind.TEST: (
        "This is a test notification from NyxMon for route {{ route }}, sent {{ at|time }}. "
        "If you can read it, the route works.\nDashboard: {{ public_url }}"
    ),
}


def _environment(undefined: type[jinja2.Undefined]) -> SandboxedEnvironment:
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        autoescape=False, undefined=undefined, keep_trailing_newline=False, trim_blocks=False
    )
    env.filters["duration"] = human_duration
    env.filters["time"] = format_time
    env.filters["since"] = format_time
    return env


@functools.cache
def _strict() -> SandboxedEnvironment:
    """Custom templates' environment: strict, so a typo fails loudly (and falls back) instead
    of going blank."""
    import jinja2

    return _environment(jinja2.StrictUndefined)


@functools.cache
def _defaults() -> SandboxedEnvironment:
    import jinja2

    return _environment(jinja2.ChainableUndefined)


@functools.cache
def _default_templates() -> dict[NoticeKind, tuple[jinja2.Template, jinja2.Template]]:
    """Every kind's default title and body, compiled once per process."""
    env = _defaults()
    return {
        kind: (env.from_string(DEFAULT_TITLES[kind]), env.from_string(body))
        for kind, body in DEFAULT_BODIES.items()
    }


def validate_template(source: str) -> str | None:
    """``None`` if ``source`` compiles, else why not (for config validation)."""
    import jinja2

    try:
        _strict().from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        return f"line {exc.lineno}: {exc.message}"
    return None


class MessageRenderer:
    """Turns a notice for a route into an :class:`OutgoingMessage`."""

    def __init__(self, public_url: str) -> None:
        self.public_url = public_url.rstrip("/")
        self._custom: dict[str, jinja2.Template] = {}

    def link(self, check_id: str) -> str:
        return f"{self.public_url}/checks/{check_id}"

    def context(self, notice: Notice, check: CheckInfo, route: str, key: str) -> dict[str, Any]:
        """The variables templates see (listed in the module docstring)."""
        return {
            "name": check.display_name,
            "check": check.name or notice.check_id,
            "check_id": notice.check_id,
            "service": check.service,
            "group": check.group,
            "labels": dict(check.labels),
            "kind": notice.kind.value,
            "state": notice.state.value,
            "previous": notice.previous.value,
            "severity": notice.severity.value,
            "since": notice.since,
            "at": notice.at,
            "elapsed": max(0.0, notice.at - notice.since),
            "duration": notice.duration,
            "failing": list(notice.failing),
            "message": notice.message,
            "details": dict(notice.details),
            "link": self.link(notice.check_id),
            "public_url": self.public_url,
            "route": route,
            "key": key,
        }

    def render(self, notice: Notice, check: CheckInfo, route: Route, key: str) -> OutgoingMessage:
        """Render title and body; a failing custom template falls back to the default."""
        context = self.context(notice, check, route.name, key)
        default_title, default_body = _default_templates()[notice.kind]
        notes: list[str] = []
        title = self._render(route, "title", route.title_template, default_title, context, notes)
        body = self._render(route, "body", route.template, default_body, context, notes)
        if notes:
            body = body + "\n\n" + "\n".join(f"[NyxMon: {note}]" for note in notes)
        return OutgoingMessage(
            title=title,
            body=body,
            notice=notice,
            key=key,
            route=route,
            check=check,
            link=context["link"],
            notes=tuple(notes),
        )

    def _render(
        self,
        route: Route,
        part: str,
        source: str | None,
        default: jinja2.Template,
        context: dict[str, Any],
        notes: list[str],
    ) -> str:
        if source is not None:
            try:
                template = self._custom.get(source)
                if template is None:
                    template = self._custom[source] = _strict().from_string(source)
                return template.render(context).strip()
            except Exception as exc:  # a template must never cost the notification
                why = f"{type(exc).__name__}: {exc}"
                notes.append(
                    f"the {part} template of route {route.name!r} failed ({why}); "
                    "the default was used"
                )
                log.warning(
                    "route %r: %s template failed for %s (%s); using the default",
                    route.name,
                    part,
                    context["key"],
                    why,
                )
        try:
            return default.render(context).strip()
        except Exception as exc:  # odd data in details; still say what happened
            log.exception("default %s template failed for %s", part, context["key"])
            notes.append(f"the default {part} template failed ({type(exc).__name__}: {exc})")
            if part == "title":
                return f"{context['kind'].upper()}: {context['name']}"
            return f"{context['name']} is {context['state'].upper()}.\nDashboard: {context['link']}"
