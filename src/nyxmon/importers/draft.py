"""The NyxMon config an importer builds, before it is judged and written.

Importers fill an :class:`ImportDraft` with services, checks, routes and maintenance windows in
NyxMon's own terms (type names, keys, durations in seconds), and attach a note to whatever
could not be carried over exactly. :mod:`.output` then decides what is written live and what
as commented-out YAML (a type not registered yet, a condition the type never observes, anything
the config's own validation refuses) and writes the file.

Strings are NyxMon config text: ``${VAR}`` is substituted when the file is loaded, so an
importer whose source has no such syntax passes its strings through :func:`literal`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nyxmon.importers.report import ImportReport

__all__ = [
    "CheckDraft",
    "ImportDraft",
    "MaintenanceDraft",
    "RouteDraft",
    "ServiceDraft",
    "literal",
]


def literal(text: str) -> str:
    """``text`` kept as it is by the loader's ``${VAR}`` substitution."""
    return text.replace("${", "$${")


@dataclass
class _Noted:
    """Something written with comments above it, and held back (commented out) when needed."""

    notes: list[str] = field(default_factory=list, kw_only=True)
    held: str | None = field(default=None, kw_only=True)
    source: str = field(default="", kw_only=True)

    def hold(self, why: str) -> None:
        """Write this item commented out, saying ``why``; the first reason stays."""
        if self.held is None:
            self.held = why


@dataclass
class CheckDraft(_Noted):
    """One check: its common keys and its type's parameters, in the order written."""

    name: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    conditions: list[str] = field(default_factory=list)
    interval: float | None = None
    timeout: float | None = None
    labels: dict[str, str] = field(default_factory=dict)
    enabled: bool = True
    paused: bool = False
    alert: dict[str, Any] = field(default_factory=dict)
    #: Conditions written as comments only, each with why it is not live.
    held_conditions: list[tuple[str, str]] = field(default_factory=list)
    check_id: str = ""  # set by the output once names are unique


@dataclass
class ServiceDraft(_Noted):
    """One service and its checks."""

    name: str
    group: str = ""
    description: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    checks: list[CheckDraft] = field(default_factory=list)


@dataclass
class RouteDraft(_Noted):
    """One alert route: ``settings`` are its keys after ``name`` and ``type``; ``checks`` the
    checks it takes (their ids are known only once the output made names unique)."""

    name: str
    type: str
    settings: dict[str, Any] = field(default_factory=dict)
    checks: list[CheckDraft] = field(default_factory=list)
    match_all: bool = False


@dataclass
class MaintenanceDraft(_Noted):
    """One maintenance window: its schedule keys; ``checks`` empty and ``all`` for every check."""

    name: str
    schedule: dict[str, Any] = field(default_factory=dict)
    checks: list[CheckDraft] = field(default_factory=list)
    all: bool = False


@dataclass
class ImportDraft:
    """Everything one import produced, and its report."""

    report: ImportReport
    services: list[ServiceDraft] = field(default_factory=list)
    routes: list[RouteDraft] = field(default_factory=list)
    maintenance: list[MaintenanceDraft] = field(default_factory=list)
    defaults: dict[str, Any] = field(default_factory=dict)
    #: Comments for the top of the file: settings of the source with no place in NyxMon.
    header: list[str] = field(default_factory=list)

    def service(self, name: str, **kwargs: Any) -> ServiceDraft:
        """The service called ``name``, created on first use."""
        for service in self.services:
            if service.name == name:
                return service
        service = ServiceDraft(name=name, **kwargs)
        self.services.append(service)
        return service
