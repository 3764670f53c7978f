"""The overview's rows: every live check filtered, grouped by service and cut into pages.

Pure work on the shared live view (no store reads, no per-check queries), so filtering 5,000
checks on each keystroke costs a few milliseconds. By default rows are ordered by service
group (named groups first, services without one after them), service, then name, and a row
that opens a service group (``services[].group`` in the config) carries its name as a section
heading. ``sort=problems`` puts the services with the worst state first and, inside each, the
checks in the worst states (down, flapping, degraded, ...) first, so mid-incident the trouble
is at the top (without group headings, which that order would repeat). A row that opens a
service's group carries that group's figures, also when the group continues from the
previous page, so "load more" never repeats or loses a heading.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from nyxmon.domain.model import Check
from nyxmon.web.live import CheckView
from nyxmon.web.pages.formatting import STATES, target_of

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "SORTS",
    "UNGROUPED",
    "Filters",
    "Group",
    "Listing",
    "Row",
    "build_listing",
    "parse_filters",
]

DEFAULT_LIMIT = 200
MAX_LIMIT = 1000
_MAX_TEXT = 200
#: The orders the overview offers, by the value of ``sort`` ("" is the default).
SORTS: Mapping[str, str] = {"": "Service and name", "problems": "Problems first"}
_RANK = {state: index for index, state in enumerate(STATES)}


@dataclass(frozen=True, slots=True)
class Filters:
    """What the overview's filter bar asks for; empty strings match everything.

    ``q`` matches every word (case-insensitive) against the check's name, id, service, type,
    target and labels; ``label`` is ``KEY=VALUE`` or a bare ``KEY`` (the label exists).
    ``sort`` is not a filter but travels with them, so a bookmarked view keeps its order.
    """

    q: str = ""
    service: str = ""
    state: str = ""
    type: str = ""
    label: str = ""
    sort: str = ""

    @property
    def active(self) -> bool:
        return any((self.q, self.service, self.state, self.type, self.label))

    def query(self, **extra: object) -> str:
        """The filters (and ``extra``) as a URL query string, empty values left out."""
        pairs = {
            "q": self.q,
            "service": self.service,
            "state": self.state,
            "type": self.type,
            "label": self.label,
            "sort": self.sort,
            **{k: str(v) for k, v in extra.items()},
        }
        return urlencode({k: v for k, v in pairs.items() if v})

    def matches(self, view: CheckView) -> bool:
        check = view.check
        if self.service and check.service != self.service:
            return False
        if self.state and view.state != self.state:
            return False
        if self.type and check.type != self.type:
            return False
        if self.label:
            key, sep, value = self.label.partition("=")
            have = check.effective_labels.get(key.strip())
            if have is None or (sep and have != value.strip()):
                return False
        if self.q:
            haystack = _haystack(view)
            return all(word in haystack for word in self.q.lower().split())
        return True


#: Search text per check id, kept while the same Check object is listed (the check list is
#: reused until a check changes, so typing in the search box does not rebuild 5,000 strings).
_HAYSTACKS: dict[str, tuple[Check, str]] = {}
_MAX_HAYSTACKS = 100_000


def _haystack(view: CheckView) -> str:
    check = view.check
    cached = _HAYSTACKS.get(check.id)
    if cached is not None and cached[0] is check:
        return cached[1]
    labels = " ".join(f"{k}={v}" for k, v in check.effective_labels.items())
    text = f"{check.name} {check.id} {check.service} {check.type} {target_of(check)} {labels}"
    if len(_HAYSTACKS) >= _MAX_HAYSTACKS:
        _HAYSTACKS.clear()
    _HAYSTACKS[check.id] = (check, text.lower())
    return text.lower()


def parse_filters(params: Mapping[str, str]) -> Filters:
    """Filters from query parameters; over-long values are cut, unknown states ignored."""

    def text(name: str) -> str:
        return params.get(name, "").strip()[:_MAX_TEXT]

    state = text("state")
    sort = text("sort")
    return Filters(
        q=text("q"),
        service=text("service"),
        state=state if state in STATES else "",
        type=text("type"),
        label=text("label"),
        sort=sort if sort in SORTS else "",
    )


@dataclass(frozen=True, slots=True)
class Group:
    """A service's figures over the matching checks: how many, and how many per state."""

    name: str
    total: int
    states: Mapping[str, int]

    @property
    def summary(self) -> list[tuple[str, int]]:
        return [(state, self.states[state]) for state in STATES if self.states.get(state)]


#: The heading of services without a group, once some service has one.
UNGROUPED = "Other services"


@dataclass(frozen=True, slots=True)
class Row:
    view: CheckView
    target: str
    #: Set on the first row of a service's group on this page.
    group: Group | None = None
    #: The service group's name on the first row of that group (when any service has one).
    section: str | None = None


@dataclass(frozen=True, slots=True)
class Listing:
    """One page of the overview and the figures around it."""

    filters: Filters
    rows: list[Row]
    matching: int
    total: int
    offset: int
    limit: int
    states: Mapping[str, int]
    services: list[str]
    types: list[str]
    groups: Mapping[str, Group] = field(default_factory=dict)

    @property
    def next_offset(self) -> int | None:
        following = self.offset + len(self.rows)
        return following if following < self.matching else None

    @property
    def remaining(self) -> int:
        return max(0, self.matching - self.offset - len(self.rows))

    @property
    def sorts(self) -> Mapping[str, str]:
        return SORTS

    @property
    def state_summary(self) -> list[tuple[str, int]]:
        return [(state, self.states[state]) for state in STATES if self.states.get(state)]


def _order(view: CheckView) -> tuple[bool, str, str, str, str]:
    check = view.check
    group = check.group
    return (not group, group.casefold(), check.service.casefold(), check.name.casefold(), check.id)


# The last views sorted for the overview, by identity: the shared live view hands out one
# tuple per refresh (once a second at most), and sorting 5,000 views was a fifth of the
# overview's CPU. Filtering a sorted list keeps it sorted. Worker threads may race here;
# the worst case is one extra sort.
_sorted: tuple[tuple[CheckView, ...], list[CheckView]] | None = None


def _in_order(views: Sequence[CheckView]) -> list[CheckView]:
    global _sorted
    if not isinstance(views, tuple):  # only an immutable sequence can be known by identity
        return sorted(views, key=_order)
    known = _sorted
    if known is not None and known[0] is views:
        return known[1]
    ordered = sorted(views, key=_order)
    _sorted = (views, ordered)
    return ordered


def _problems_first(views: list[CheckView], groups: Mapping[str, Group]) -> list[CheckView]:
    """``views`` (in name order) with the worst groups first and, in each, the worst checks
    first; a stable sort, so equals keep their name order."""
    worst = {
        name: min((_RANK.get(state, len(_RANK)) for state in group.states), default=len(_RANK))
        for name, group in groups.items()
    }
    return sorted(
        views,
        key=lambda view: (
            worst[view.check.service],
            view.check.service.casefold(),
            _RANK.get(view.state, len(_RANK)),
        ),
    )


def build_listing(
    views: Sequence[CheckView], filters: Filters, *, offset: int = 0, limit: int = DEFAULT_LIMIT
) -> Listing:
    """The page of ``views`` matching ``filters`` that starts at ``offset``."""
    offset = max(0, offset)
    limit = min(MAX_LIMIT, max(1, limit))
    states: dict[str, int] = {}
    services: set[str] = set()
    types: set[str] = set()
    for view in views:
        states[view.state] = states.get(view.state, 0) + 1
        services.add(view.check.service)
        types.add(view.check.type)
    matching = [v for v in _in_order(views) if filters.matches(v)]
    counts: dict[str, dict[str, int]] = {}
    for view in matching:
        per = counts.setdefault(view.check.service, {})
        per[view.state] = per.get(view.state, 0) + 1
    groups = {name: Group(name, sum(per.values()), per) for name, per in counts.items()}
    if filters.sort == "problems":
        matching = _problems_first(matching, groups)
    rows: list[Row] = []
    before = matching[offset - 1].check if 0 < offset <= len(matching) else None
    previous = before.service if before is not None else None
    sections = filters.sort != "problems" and any(view.check.group for view in matching)
    previous_group = before.group if before is not None else None
    for view in matching[offset : offset + limit]:
        service, group = view.check.service, view.check.group
        opens = groups[service] if service != previous else None
        section = (group or UNGROUPED) if sections and group != previous_group else None
        rows.append(Row(view, target_of(view.check), opens, section))
        previous, previous_group = service, group
    return Listing(
        filters=filters,
        rows=rows,
        matching=len(matching),
        total=len(views),
        offset=offset,
        limit=limit,
        states=states,
        services=sorted(services, key=str.casefold),
        types=sorted(types),
        groups=groups,
    )
