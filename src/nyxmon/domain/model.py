"""The monitoring model: services, checks and the results of running them.

Plain frozen dataclasses, no I/O and no framework: adapters (config, store, probes, web) convert
to and from these. Times are wall-clock POSIX seconds (``float``) so they survive restarts and
cross process boundaries; durations are seconds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

__all__ = [
    "Check",
    "CheckSource",
    "Outcome",
    "Result",
    "Service",
    "check_id_for",
    "effective_labels",
    "slugify",
]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _empty() -> Mapping[str, Any]:
    # dataclasses refuse an unhashable default (mappingproxy) on 3.11, so share it via a factory.
    return _EMPTY


class Outcome(StrEnum):
    """How one run of a check ended.

    ``ok``: every condition held. ``fail``: the target answered but a condition did not hold.
    ``error``: the probe could not get an answer (refused, DNS failure, TLS error, bad config).
    ``timeout``: no answer within the check's timeout.
    """

    OK = "ok"
    FAIL = "fail"
    ERROR = "error"
    TIMEOUT = "timeout"

    @property
    def is_success(self) -> bool:
        return self is Outcome.OK


class CheckSource(StrEnum):
    """Who owns a check: the config file (read-only elsewhere) or the CLI/API."""

    CONFIG = "config"
    API = "api"


_SLUG_RE = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """Lower-case ``text`` and collapse every run of other characters into one ``-``."""
    slug = _SLUG_RE.sub("-", text.lower()).strip("-")
    return slug or "x"


def effective_labels(inherited: Mapping[str, str], own: Mapping[str, str]) -> Mapping[str, str]:
    """``inherited`` overlaid by ``own``; no copy when one of them is empty."""
    if not inherited:
        return own
    if not own:
        return inherited
    return MappingProxyType({**inherited, **own})


def check_id_for(service: str, name: str) -> str:
    """The stable id of a check that has no explicit one: ``<service-slug>.<name-slug>``.

    Stable ids keep a check's history when the agent restarts or the file is reloaded.
    """
    return f"{slugify(service)}.{slugify(name)}"


@dataclass(frozen=True, slots=True)
class Service:
    """Something people run and care about; it groups checks on the dashboard and status page."""

    name: str
    group: str = ""
    labels: Mapping[str, str] = field(default_factory=_empty)
    description: str = ""


@dataclass(frozen=True, slots=True)
class Check:
    """One thing to probe on a schedule.

    ``params`` holds the type's own settings (url, method, record type, ...) as validated plain
    data; each probe module owns the schema for its type. ``conditions`` are the raw condition
    strings (``"[STATUS] == 200"``); they are compiled once by the probe layer. ``alert`` holds
    only the alert-policy keys this check overrides (JSON-safe: durations in seconds), so the
    defaults still apply to the rest; see :func:`nyxmon.domain.alerting.apply_overrides`.

    ``labels`` are the check's own. A check inherits its service's labels, its own winning on
    a clash (:attr:`effective_labels`: what filters, routes, maintenance windows and notices
    match on), and shows under its service's ``group``. The inheritance happens at read time:
    whoever reads a check from storage fills ``service_labels`` and ``group`` from its
    service as it is then. Not at config load, because a service's labels change without its
    checks being written (a reload, the API editing a service), checks join a service through
    the API and CLI as well as the file, and a check's own labels must stay its own so that
    editing it, or putting back what the API returned, never freezes the service's labels of
    the day into the check.

    ``locations`` names the agent locations that probe the check, each keeping its own view,
    and ``quorum`` how many of them must see it down for its state to be DOWN
    (:mod:`nyxmon.domain.locations`); without locations any one agent probes it.
    """

    id: str
    service: str
    name: str
    type: str
    interval: float
    timeout: float
    params: Mapping[str, Any] = field(default_factory=_empty)
    conditions: tuple[str, ...] = ()
    enabled: bool = True
    paused: bool = False
    labels: Mapping[str, str] = field(default_factory=_empty)
    source: CheckSource = CheckSource.CONFIG
    alert: Mapping[str, Any] = field(default_factory=_empty)
    service_labels: Mapping[str, str] = field(default_factory=_empty)
    group: str = ""
    locations: tuple[str, ...] = ()
    quorum: int | None = None

    @property
    def active(self) -> bool:
        """Whether the scheduler should run it."""
        return self.enabled and not self.paused

    @property
    def quorum_needed(self) -> int:
        """How many of ``locations`` must see the check down for it to be DOWN: ``quorum``,
        or a majority of the locations when it names none (1 without locations)."""
        if self.quorum is not None:
            return self.quorum
        return len(self.locations) // 2 + 1

    @property
    def effective_labels(self) -> Mapping[str, str]:
        """The service's labels with the check's own on top (the check wins on a clash)."""
        return effective_labels(self.service_labels, self.labels)


@dataclass(frozen=True, slots=True)
class Result:
    """What one run of a check observed.

    ``scheduled_at`` is when the run was due and ``started_at`` when it really began; their
    difference is the scheduler's start lag. ``timings`` holds per-phase seconds (for HTTP:
    ``dns``, ``connect``, ``tls``, ``first_byte``, ``total``). ``details`` holds what the probe saw
    (status code, response size, resolved addresses, certificate days left, failed conditions).
    ``degraded`` marks a run that passed but was slower than the check allows.

    Times are kept to the millisecond and the duration to the microsecond from the start,
    which is what the store keeps: a notice's "since", the live page and the stored history
    then name the same instant, before and after a reload.
    """

    check_id: str
    scheduled_at: float
    started_at: float
    duration: float
    outcome: Outcome
    message: str = ""
    timings: Mapping[str, float] = field(default_factory=_empty)
    details: Mapping[str, Any] = field(default_factory=_empty)
    degraded: bool = False

    def __post_init__(self) -> None:
        # Not finite values are left for the store to refuse, naming the field.
        if math.isfinite(self.scheduled_at):
            object.__setattr__(self, "scheduled_at", round(self.scheduled_at * 1000) / 1000)
        if math.isfinite(self.started_at):
            object.__setattr__(self, "started_at", round(self.started_at * 1000) / 1000)
        if math.isfinite(self.duration):
            object.__setattr__(self, "duration", round(self.duration * 1_000_000) / 1_000_000)

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    @property
    def start_lag(self) -> float:
        """Seconds between when the run was due and when it started (never negative)."""
        return max(0.0, self.started_at - self.scheduled_at)
