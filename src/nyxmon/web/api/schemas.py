"""The API's JSON shapes: request bodies built from the config file's own check models, and
response models converted from the domain and store records.

A check is written as ``{"service": "Website", "check": {...}}`` where ``check`` is exactly
what one item of ``services[].checks`` holds in the YAML file, validated by the same pydantic
union (:func:`nyxmon.config.check_config_type`): what validates in one validates in the other.
``PUT`` also takes a check exactly as ``GET`` answered it (:class:`CheckReplace`), so a client
can read a check, change a field and write it back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from nyxmon.checktypes import CHECK_TYPES
from nyxmon.checktypes.secrets import mask_check_params, mask_url_secrets
from nyxmon.config import check_config_type
from nyxmon.config.schema import Labels, NonEmptyStr
from nyxmon.domain.history.figures import Availability, SeriesPoint
from nyxmon.domain.locations import LocationView, is_stale, stale_after, views_of
from nyxmon.domain.model import Check, Result, Service
from nyxmon.domain.status import CheckStatus
from nyxmon.service_layer.records.accounts import TokenRecord, TokenScope
from nyxmon.service_layer.records.alerts import Transition
from nyxmon.service_layer.records.results import StoredResult
from nyxmon.web.live import CheckView

__all__ = [
    "AvailabilityOut",
    "CheckOut",
    "CheckPut",
    "CheckReplace",
    "CheckWrite",
    "IncidentOut",
    "PageOut",
    "ResultOut",
    "ResultPageOut",
    "SeriesOut",
    "SeriesPointOut",
    "ServiceOut",
    "ServicePut",
    "ServiceWrite",
    "StatusOut",
    "TokenCreate",
    "TokenCreated",
    "TokenOut",
    "TransitionOut",
    "UptimeOut",
    "check_out",
    "result_out",
]

T = TypeVar("T")
_WRITE = ConfigDict(extra="forbid", frozen=True)

CheckSpec = check_config_type()


class CheckWrite(BaseModel):
    """A check to create or replace: its service and the check as the config file writes it."""

    model_config = _WRITE

    service: Annotated[NonEmptyStr, Field(max_length=200)]
    check: CheckSpec  # type: ignore[valid-type]


_READ_ONLY = {"readOnly": True}


class CheckReplace(BaseModel):
    """A check in the shape ``GET /checks/{id}`` answers, to ``PUT`` back as it is or edited.

    ``params`` hold the type's own settings (``url``, ``query_name``, ...); ``id``, if given,
    must be the URL's; ``source``, ``state``, ``status``, ``effective_labels``, ``group``,
    ``quorum_needed`` and ``location_views`` are read-only and ignored (``effective_labels``
    and ``group`` come from the service). Every value is judged by
    the config file's rules, with errors named as here (``params.url``).
    """

    model_config = _WRITE

    id: Annotated[str | None, Field(json_schema_extra=_READ_ONLY)] = None
    service: Annotated[NonEmptyStr, Field(max_length=200)]
    name: NonEmptyStr
    type: Annotated[str, Field(json_schema_extra={"enum": sorted(CHECK_TYPES)})]
    interval: float | str | None = None
    timeout: float | str | None = None
    params: dict[str, Any] = {}
    conditions: list[str] = []
    enabled: bool = True
    paused: bool = False
    labels: dict[str, str] = {}
    alert: dict[str, Any] = {}
    locations: list[str] = []
    quorum: int | None = None
    source: Annotated[str | None, Field(json_schema_extra=_READ_ONLY)] = None
    state: Annotated[str | None, Field(json_schema_extra=_READ_ONLY)] = None
    status: Annotated[dict[str, Any] | None, Field(json_schema_extra=_READ_ONLY)] = None
    effective_labels: Annotated[dict[str, str] | None, Field(json_schema_extra=_READ_ONLY)] = None
    group: Annotated[str | None, Field(json_schema_extra=_READ_ONLY)] = None
    quorum_needed: Annotated[int | None, Field(json_schema_extra=_READ_ONLY)] = None
    location_views: Annotated[list[Any] | None, Field(json_schema_extra=_READ_ONLY)] = None

    def check_data(self) -> dict[str, Any]:
        """The check as the config file writes it (``params`` inline, read-only fields out)."""
        data: dict[str, Any] = {**self.params, "name": self.name, "type": self.type}
        data.update(conditions=self.conditions, labels=self.labels)
        data.update(enabled=self.enabled, paused=self.paused)
        for key in ("interval", "timeout"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.alert:
            data["alert"] = self.alert
        if self.locations:
            data["locations"] = self.locations
        if self.quorum is not None:
            data["quorum"] = self.quorum
        return data


#: Union tags of a PUT body's two shapes; they never show in an error's field name.
PUT_SHAPES = ("shape:write", "shape:read")


def _put_shape(value: Any) -> str:
    if isinstance(value, CheckReplace):
        return PUT_SHAPES[1]
    if isinstance(value, CheckWrite) or (isinstance(value, dict) and "check" in value):
        return PUT_SHAPES[0]
    return PUT_SHAPES[1]


CheckPut = Annotated[
    Annotated[CheckWrite, Tag(PUT_SHAPES[0])] | Annotated[CheckReplace, Tag(PUT_SHAPES[1])],
    Discriminator(_put_shape),
]
"""A ``PUT`` body: ``{"service": ..., "check": {...}}`` like ``POST``, or what ``GET`` gave."""


class ServiceWrite(BaseModel):
    """A service created or changed through the API (config services are read-only)."""

    model_config = _WRITE

    name: Annotated[NonEmptyStr, Field(max_length=200)]
    group: Annotated[str, Field(max_length=200)] = ""
    description: Annotated[str, Field(max_length=2000)] = ""
    labels: Labels = {}


_SCOPE_HELP = (
    "read: GET and HEAD only (lists, history, the event stream, the agent's figures); "
    "admin: every operation"
)


class ServicePut(BaseModel):
    """A service's new group, description and labels; ``name``, if given, must be the URL's
    (a service cannot be renamed), so it is read-only here."""

    model_config = _WRITE

    name: Annotated[str | None, Field(max_length=200, json_schema_extra=_READ_ONLY)] = None
    group: Annotated[str, Field(max_length=200)] = ""
    description: Annotated[str, Field(max_length=2000)] = ""
    labels: Labels = {}


class TokenCreate(BaseModel):
    """A token to create; without ``scope`` it may only read (least privilege: ask for
    ``admin`` to let it change things)."""

    model_config = _WRITE

    name: Annotated[NonEmptyStr, Field(max_length=100)]
    scope: Annotated[TokenScope, Field(description=_SCOPE_HELP)] = "read"


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class StatusOut(BaseModel):
    """What the agent knows live: the state (and since when) and the last result's summary."""

    state: str
    since: float | None
    last_outcome: str | None
    last_degraded: bool
    last_result_at: float | None
    last_duration: float | None
    message: str
    consecutive_ok: int
    consecutive_failures: int


class LocationViewOut(BaseModel):
    """What one location sees of a check probed from several: its own verdict (``state``,
    since ``since``), its last result (time and message) and the agent that probed it.
    ``stale``: no result for two intervals and a lease period, so it does not count."""

    location: str
    state: str
    since: float | None
    last_result_at: float | None
    message: str
    agent_id: int | None
    stale: bool


def location_views_out(
    check: Check, views: Sequence[LocationView], *, now: float, lease_seconds: float
) -> list[LocationViewOut]:
    """One entry per location the check names, in its order (``pending`` before a first
    result there)."""
    limit = stale_after(check.interval, lease_seconds)
    out: list[LocationViewOut] = []
    for view in views_of(check.id, check.locations, views):
        out.append(
            LocationViewOut(
                location=view.location,
                state=view.state.value,
                since=view.since,
                last_result_at=view.last_result_at,
                message=view.message,
                agent_id=view.agent_id,
                stale=view.last_result_at is not None and is_stale(view, now, limit),
            )
        )
    return out


class CheckOut(BaseModel):
    """A check as the API shows it; ``PUT`` takes this shape back (:class:`CheckReplace`).

    ``labels`` are its own (what a PUT sets), ``effective_labels`` those filters and routes
    match on (its service's, its own winning), ``group`` its service's group. Secrets in
    ``params`` (passwords, tokens, credentials and query values in URLs, credential headers)
    are write-only: they show as ``********``, and ``********`` written back keeps them."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "website.api",
                    "service": "Website",
                    "name": "api",
                    "type": "http",
                    "interval": 30.0,
                    "timeout": 10.0,
                    "params": {
                        "url": "https://********:********@example.com/health?key=********",
                        "headers": {"X-Api-Key": "********", "Accept": "application/json"},
                        "bearer_token": None,
                    },
                    "conditions": ["[STATUS] == 200"],
                    "enabled": True,
                    "paused": False,
                    "labels": {},
                    "alert": {},
                    "source": "api",
                    "state": "up",
                    "status": None,
                    "effective_labels": {},
                    "group": "",
                }
            ]
        }
    )

    id: str
    service: str
    name: str
    type: str
    interval: float
    timeout: float
    params: dict[str, Any]
    conditions: list[str]
    enabled: bool
    paused: bool
    labels: dict[str, str]
    alert: dict[str, Any]
    source: str
    state: str
    status: StatusOut | None
    effective_labels: dict[str, str] = {}
    group: str = ""
    #: Where the check is probed from, and how many of those must see it down (as written:
    #: None is a majority); read-only: ``quorum_needed`` and each location's view.
    locations: list[str] = []
    quorum: int | None = None
    quorum_needed: Annotated[int | None, Field(json_schema_extra=_READ_ONLY)] = None
    location_views: Annotated[list[LocationViewOut], Field(json_schema_extra=_READ_ONLY)] = []


class ServiceOut(BaseModel):
    name: str
    group: str
    description: str
    labels: dict[str, str]
    checks: int
    states: dict[str, int]


class ResultOut(BaseModel):
    id: int | None
    check_id: str
    scheduled_at: float
    started_at: float
    duration: float
    outcome: str
    degraded: bool
    message: str
    timings: dict[str, float]
    details: dict[str, Any]


class ResultPageOut(BaseModel):
    items: list[ResultOut]
    next_cursor: str | None


class AvailabilityOut(BaseModel):
    start: float
    end: float
    count: int
    ok_count: int
    degraded_count: int
    uptime_pct: float | None
    duration_min: float | None
    duration_avg: float | None
    duration_max: float | None
    duration_p50: float | None
    duration_p95: float | None
    duration_p99: float | None


class UptimeOut(BaseModel):
    check_id: str
    windows: dict[str, AvailabilityOut]


class SeriesPointOut(BaseModel):
    start: float
    count: int
    ok_count: int
    degraded_count: int
    uptime_pct: float | None
    duration_min: float | None
    duration_avg: float | None
    duration_max: float | None
    duration_p95: float | None


class SeriesOut(BaseModel):
    check_id: str
    window: str
    step: float
    points: list[SeriesPointOut]


class TransitionOut(BaseModel):
    """A state change decided at ``at``; the new state began at ``since`` (for ``down``: the
    first failing run of the outage)."""

    check_id: str
    at: float
    since: float
    from_state: str
    to_state: str
    message: str


class IncidentOut(BaseModel):
    """A period in a failing state: from the first failing run of the streak that led to it
    (the DOWN notice's ``since``) to the first good run after it; ``end`` is null while it
    lasts (``duration`` runs to now). A RECOVERED notice's duration is this ``duration``."""

    check_id: str
    state: str
    start: float
    end: float | None
    duration: float
    message: str


class TokenOut(BaseModel):
    id: int
    name: str
    owner: str
    scope: Annotated[TokenScope, Field(description=_SCOPE_HELP)]
    created_at: float
    last_used_at: float | None
    revoked_at: float | None


class TokenCreated(TokenOut):
    """The new token's secret is in ``token``: shown this once, only its hash is kept."""

    token: str


def status_out(status: CheckStatus | None, state: str) -> StatusOut | None:
    if status is None:
        return None
    return StatusOut(
        state=state,
        since=status.alert_since,
        last_outcome=status.last_outcome.value if status.last_outcome is not None else None,
        last_degraded=status.last_degraded,
        last_result_at=status.last_result_at,
        last_duration=status.last_duration,
        message=status.last_message,
        consecutive_ok=status.consecutive_ok,
        consecutive_failures=status.consecutive_failures,
    )


def check_out(
    check: Check,
    view: CheckView | None = None,
    location_views: Sequence[LocationViewOut] = (),
) -> CheckOut:
    state = view.state if view is not None else ("paused" if not check.active else "pending")
    return CheckOut(
        id=check.id,
        service=check.service,
        name=check.name,
        type=check.type,
        interval=check.interval,
        timeout=check.timeout,
        params=mask_check_params(check.type, check.params),
        conditions=list(check.conditions),
        enabled=check.enabled,
        paused=check.paused,
        labels=dict(check.labels),
        alert=dict(check.alert),
        source=check.source.value,
        state=state,
        status=status_out(view.status if view is not None else None, state),
        effective_labels=dict(check.effective_labels),
        group=check.group,
        locations=list(check.locations),
        quorum=check.quorum,
        quorum_needed=check.quorum_needed if check.locations else None,
        location_views=list(location_views),
    )


def service_out(service: Service, views: Sequence[CheckView]) -> ServiceOut:
    states: dict[str, int] = {}
    for view in views:
        states[view.state] = states.get(view.state, 0) + 1
    return ServiceOut(
        name=service.name,
        group=service.group,
        description=service.description,
        labels=dict(service.labels),
        checks=len(views),
        states=states,
    )


def result_out(result: Result, result_id: int | None = None) -> ResultOut:
    return ResultOut(
        id=result_id,
        check_id=result.check_id,
        scheduled_at=result.scheduled_at,
        started_at=result.started_at,
        duration=result.duration,
        outcome=result.outcome.value,
        degraded=result.degraded,
        message=result.message,
        timings=dict(result.timings),
        details=_json_safe(result.details),
    )


def stored_result_out(stored: StoredResult) -> ResultOut:
    return result_out(stored.result, stored.id)


def availability_out(figures: Availability) -> AvailabilityOut:
    return AvailabilityOut(
        start=figures.start,
        end=figures.end,
        count=figures.count,
        ok_count=figures.ok_count,
        degraded_count=figures.degraded_count,
        uptime_pct=figures.uptime_pct,
        duration_min=figures.duration_min,
        duration_avg=figures.duration_avg,
        duration_max=figures.duration_max,
        duration_p50=figures.duration_p50,
        duration_p95=figures.duration_p95,
        duration_p99=figures.duration_p99,
    )


def series_point_out(point: SeriesPoint) -> SeriesPointOut:
    return SeriesPointOut(
        start=point.start,
        count=point.count,
        ok_count=point.ok_count,
        degraded_count=point.degraded_count,
        uptime_pct=point.uptime_pct,
        duration_min=point.duration_min,
        duration_avg=point.duration_avg,
        duration_max=point.duration_max,
        duration_p95=point.duration_p95,
    )


def transition_out(transition: Transition) -> TransitionOut:
    return TransitionOut(
        check_id=transition.check_id,
        at=transition.at,
        since=transition.began,
        from_state=transition.from_state,
        to_state=transition.to_state,
        message=transition.message,
    )


def token_out(record: TokenRecord) -> TokenOut:
    return TokenOut(
        id=record.id,
        name=record.name,
        owner=record.owner,
        scope=record.scope,
        created_at=record.created_at,
        last_used_at=record.last_used_at,
        revoked_at=record.revoked_at,
    )


def _json_safe(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v) for v in value]
    if isinstance(value, str) and "://" in value:
        return mask_url_secrets(value)  # results stored before URLs were masked at the probe
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
