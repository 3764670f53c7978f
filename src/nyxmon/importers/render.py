"""Writing an :class:`~nyxmon.importers.draft.ImportDraft` as a commented NyxMon YAML file.

Values are written in flow style (JSON is valid YAML, and only ``true``/``false`` are booleans
to NyxMon's loader), plain where a word needs no quotes. Notes go as comments above their item;
a held item is written as commented-out YAML under the reason, so uncommenting it is all a user
has to do once the reason is gone. :class:`Rendered` says which draft each live list position
came from, so a validation message can be traced back to the item it is about.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from nyxmon.config.durations import spell_duration
from nyxmon.importers.draft import (
    CheckDraft,
    ImportDraft,
    MaintenanceDraft,
    RouteDraft,
    ServiceDraft,
)

__all__ = ["Rendered", "render"]

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_ ./@+()-]*")
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def scalar(value: Any) -> str:
    """``value`` as one line of YAML flow text."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        plain = _PLAIN.fullmatch(value) and value.lower() not in _RESERVED
        if plain and not value.endswith(" ") and " #" not in value:
            return value
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        items = ", ".join(f"{_key(k)}: {scalar(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(scalar(item) for item in value) + "]"
    return json.dumps(str(value))


def _key(key: Any) -> str:
    text = str(key)
    return text if _PLAIN_KEY.fullmatch(text) else json.dumps(text)


@dataclass
class Rendered:
    """The YAML text and, per live list position, the draft written there."""

    text: str = ""
    checks: dict[tuple[int, int], CheckDraft] = field(default_factory=dict)
    services: dict[int, ServiceDraft] = field(default_factory=dict)
    routes: dict[int, RouteDraft] = field(default_factory=dict)
    maintenance: dict[int, MaintenanceDraft] = field(default_factory=dict)


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def comment(self, indent: int, text: str) -> None:
        for line in text.splitlines() or [""]:
            self.lines.append(f"{' ' * indent}# {line}".rstrip())

    def item(
        self, indent: int, pairs: list[tuple[str, str]], notes: list[str], held: str | None
    ) -> None:
        """A list item ``- key: value`` at ``indent``, commented out when ``held``."""
        for note in notes:
            self.comment(indent, note)
        body = [
            f"{' ' * indent}{'- ' if index == 0 else '  '}{text}"
            for index, (_, text) in enumerate(pairs)
        ]
        if held is None:
            self.lines.extend(body)
            return
        self.comment(indent, f"not live: {held}")
        self.lines.extend(_commented(line, indent) for line in body)


def _commented(line: str, indent: int) -> str:
    stripped = line[indent:]
    if stripped.lstrip().startswith("#"):
        return f"{' ' * indent}#{stripped}"
    return f"{' ' * indent}# {stripped}"


def _check_pairs(check: CheckDraft) -> list[tuple[str, str]]:
    pairs = [("name", f"name: {scalar(check.name)}"), ("type", f"type: {check.type}")]
    if check.interval is not None:
        pairs.append(("interval", f"interval: {spell_duration(check.interval)}"))
    if check.timeout is not None:
        pairs.append(("timeout", f"timeout: {spell_duration(check.timeout)}"))
    if not check.enabled:
        pairs.append(("enabled", "enabled: false"))
    if check.paused:
        pairs.append(("paused", "paused: true"))
    if check.labels:
        pairs.append(("labels", f"labels: {scalar(check.labels)}"))
    pairs.extend((key, f"{_key(key)}: {scalar(value)}") for key, value in check.params.items())
    if check.conditions or check.held_conditions:
        lines = ["conditions:" if check.conditions else "conditions: []"]
        lines.extend(f"  - {scalar(condition)}" for condition in check.conditions)
        for condition, why in check.held_conditions:
            lines.append(f"  # - {scalar(condition)}  (not live: {why})")
        pairs.append(("conditions", "\n".join(lines)))
    if check.alert:
        pairs.append(("alert", f"alert: {scalar(check.alert)}"))
    return pairs


def _expand(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Multi-line values become one pair per line (so commenting out covers each line)."""
    return [(key, line) for key, text in pairs for line in text.split("\n")]


def render(draft: ImportDraft, title: str) -> Rendered:
    """The whole file for ``draft``; ``title`` opens it as a comment."""
    out = Rendered()
    w = _Writer()
    w.comment(0, title)
    for note in draft.header:
        w.comment(0, note)
    w.lines.append("")
    if draft.defaults:
        w.lines.append("defaults:")
        for key, value in draft.defaults.items():
            shown = spell_duration(value) if key in ("interval", "timeout") else scalar(value)
            w.lines.append(f"  {key}: {shown}")
        w.lines.append("")
    w.lines.append("services:" if draft.services else "services: []")
    for s_index, service in enumerate(draft.services):
        out.services[s_index] = service
        pairs = [("name", f"name: {scalar(service.name)}")]
        if service.group:
            pairs.append(("group", f"group: {scalar(service.group)}"))
        if service.description:
            pairs.append(("description", f"description: {scalar(service.description)}"))
        if service.labels:
            pairs.append(("labels", f"labels: {scalar(service.labels)}"))
        live = [check for check in service.checks if check.held is None]
        pairs.append(("checks", "checks:" if live else "checks: []"))
        w.item(2, pairs, service.notes, None)
        c_index = 0
        for check in service.checks:
            if check.held is None:
                out.checks[(s_index, c_index)] = check
                c_index += 1
            w.item(6, _expand(_check_pairs(check)), check.notes, check.held)
    _render_routes(draft, w, out)
    _render_maintenance(draft, w, out)
    out.text = "\n".join(w.lines).rstrip() + "\n"
    return out


def _render_routes(draft: ImportDraft, w: _Writer, out: Rendered) -> None:
    if not draft.routes:
        return
    w.lines.extend(["", "alerting:"])
    live = [route for route in draft.routes if route.held is None]
    w.lines.append("  routes:" if live else "  routes: []")
    index = 0
    for route in draft.routes:
        pairs = [("name", f"name: {scalar(route.name)}"), ("type", f"type: {route.type}")]
        pairs.extend((k, f"{_key(k)}: {scalar(v)}") for k, v in route.settings.items())
        ids = [check.check_id for check in route.checks if check.held is None]
        if not route.match_all:
            pairs.append(("match", f"match: {scalar({'checks': ids})}"))
        if route.held is None:
            out.routes[index] = route
            index += 1
        w.item(4, pairs, route.notes, route.held)


def _render_maintenance(draft: ImportDraft, w: _Writer, out: Rendered) -> None:
    if not draft.maintenance:
        return
    w.lines.extend(["", "maintenance:"])
    index = 0
    for window in draft.maintenance:
        pairs = [("name", f"name: {scalar(window.name)}")]
        if window.all:
            pairs.append(("all", "all: true"))
        else:
            ids = [check.check_id for check in window.checks if check.held is None]
            pairs.append(("checks", f"checks: {scalar(ids)}"))
        pairs.extend((k, f"{_key(k)}: {scalar(v)}") for k, v in window.schedule.items())
        if window.held is None:
            out.maintenance[index] = window
            index += 1
        w.item(2, pairs, window.notes, window.held)
    if index == 0:
        # Every window is commented out: an empty list keeps the key valid.
        w.lines[w.lines.index("maintenance:")] = "maintenance: []"
