"""The API's documentation page (``/api/v1/docs``): the OpenAPI document, for people.

Every operation with its summary, its description (the route function's docstring, written
for users: plain sentences, `code` in single backticks) and its parameters, grouped by what
they are about. Rendered on the server from the same document ``/api/v1/openapi.json``
serves, so the page and the machine-readable description never disagree; no CDN-hosted
Swagger UI.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from nyxmon.checktypes import CHECK_TYPES

__all__ = ["COMMON_PARAMETERS", "SECTIONS", "Operation", "Parameter", "inline", "prose", "sections"]

#: Tag -> (heading, what the operations are for), in the order the page shows them.
SECTIONS: Mapping[str, tuple[str, str]] = {
    "checks": ("Checks", "List, create, change, pause, resume, run and delete checks."),
    "history": ("History", "Results, uptime, chart points, changes of state and incidents."),
    "services": ("Services", "The services checks belong to."),
    "alerting": ("Alerting", "Maintenance windows, alert routes and test messages."),
    "account": ("Account", "Who is calling, API tokens, and the monitor's own health."),
}
#: What the parameters many operations share mean, for those whose declaration says nothing.
COMMON_PARAMETERS: Mapping[str, str] = {
    "check_id": "The check's id (like `website.home`), as `GET /api/v1/checks` lists it.",
    "name": "The service's name.",
    "token_id": "The token's id, as `GET /api/v1/tokens` lists it.",
    "service": "Only checks of this service.",
    "state": "Only checks in this state: up, down, degraded, flapping, maintenance, pending "
    "or paused.",
    "type": f"Only checks of this type: {', '.join(CHECK_TYPES)}.",
    "source": "Only checks from the config file (config) or created otherwise (api).",
    "limit": "At most this many items.",
    "offset": "Skip this many items (the next page).",
    "window": "The time span: 1h, 6h, 24h, 7d, 30d or 90d.",
}
_CODE = re.compile(r"`([^`]+)`")
_PLACES = {"path": "in the address", "query": "query", "header": "header", "cookie": "cookie"}


def inline(text: str) -> Markup:
    """``text`` as HTML on one line, `code` as ``<code>``."""
    return Markup(_CODE.sub(r"<code>\1</code>", str(escape(" ".join(text.split())))))


def prose(text: str) -> Markup:
    """Paragraphs of ``text`` (blank lines between them) as HTML, `code` as ``<code>``."""
    paragraphs = [inline(part) for part in re.split(r"\n\s*\n", text.strip()) if part.strip()]
    return Markup("").join(Markup("<p>{}</p>").format(part) for part in paragraphs)


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    where: str
    required: bool
    description: Markup


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    summary: str
    description: Markup
    parameters: tuple[Parameter, ...]
    body: bool

    @property
    def anchor(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", f"{self.method} {self.path}".lower()).strip("-")


def _operation(method: str, path: str, spec: Mapping[str, Any]) -> Operation:
    parameters = tuple(
        Parameter(
            name=str(item.get("name", "")),
            where=_PLACES.get(str(item.get("in", "")), str(item.get("in", ""))),
            required=bool(item.get("required", False)),
            description=inline(
                str(
                    item.get("description")
                    or item.get("schema", {}).get("description")
                    or COMMON_PARAMETERS.get(str(item.get("name", "")), "")
                )
            ),
        )
        for item in spec.get("parameters", [])
    )
    return Operation(
        method=method.upper(),
        path=path,
        summary=str(spec.get("summary", "")),
        description=prose(str(spec.get("description", ""))),
        parameters=parameters,
        body=bool(spec.get("requestBody")),
    )


def sections(schema: Mapping[str, Any]) -> list[tuple[str, str, list[Operation]]]:
    """``(heading, intro, operations)`` per tag, known tags first, operations in path order."""
    grouped: dict[str, list[Operation]] = {}
    for path, methods in schema.get("paths", {}).items():
        for method, spec in methods.items():
            tag = (spec.get("tags") or ["other"])[0]
            grouped.setdefault(tag, []).append(_operation(method, path, spec))
    order = [*SECTIONS, *sorted(tag for tag in grouped if tag not in SECTIONS)]
    return [
        (*SECTIONS.get(tag, (tag.capitalize(), "")), grouped[tag])
        for tag in order
        if tag in grouped
    ]
