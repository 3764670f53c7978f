"""The pydantic models of the config file's sections and of one service.

Every model forbids unknown keys, so a typo is an error rather than a silently ignored setting.
The check models live in :mod:`nyxmon.config.checks` because they are built from the probe
registry; these sections are fixed.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from nyxmon.checktypes.booleans import Boolean
from nyxmon.config._text import invalid, show
from nyxmon.config.alert_policy import AlertSection
from nyxmon.config.durations import (
    Duration,
    IntervalDuration,
    PositiveDuration,
    TimeoutDuration,
)
from nyxmon.config.settings import DEFAULT_INTERVAL, DEFAULT_TIMEOUT
from nyxmon.config.web import StatusPageSection, check_metrics_token, check_trusted_proxy

__all__ = [
    "AgentSection",
    "DefaultsSection",
    "Labels",
    "NonEmptyStr",
    "RetentionSection",
    "ServiceSection",
    "WebSection",
    "parse_listen",
]

SECTION_CONFIG = ConfigDict(extra="forbid", frozen=True)


#: Something other than white space, the same in Python's ``re`` and in the ECMA regular
#: expressions of JSON Schema: the two disagree on what ``\s`` covers (Python's takes the
#: separators U+001C-U+001F and U+0085, ECMA's takes U+FEFF), so the pattern names all of them and
#: the validator uses the pattern itself; an API client generating from the schema and NyxMon
#: then agree on every name.
_SHOWING = r"[^\s\x1c-\x1f\x85\ufeff]"


def _non_empty(value: str) -> str:
    if not re.search(_SHOWING, value):
        raise invalid("empty", f"expected a non-empty string, got {show(value)}")
    return value


NonEmptyStr = Annotated[
    str, AfterValidator(_non_empty), Field(json_schema_extra={"pattern": _SHOWING})
]
"""A string with something besides white space (its JSON schema says so too: the API's
OpenAPI document is the contract)."""
Labels = dict[str, str]

_HOST_RE = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*"
)
_LISTEN_HINT = "expected host:port like 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080"


def parse_listen(text: str) -> tuple[str, int]:
    """``"127.0.0.1:8080"`` -> ``("127.0.0.1", 8080)``; IPv6 hosts go in brackets."""
    if text.startswith("["):
        host, sep, port_text = text[1:].partition("]:")
        if not sep:
            raise ValueError(f"{_LISTEN_HINT}, got {show(text)}")
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{_LISTEN_HINT}; {show(host)} is not an IPv6 address") from None
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep or not host:
            raise ValueError(f"{_LISTEN_HINT}, got {show(text)}")
        if ":" in host:
            raise ValueError(f"{_LISTEN_HINT} (IPv6 addresses go in brackets), got {show(text)}")
        if not _HOST_RE.fullmatch(host):
            raise ValueError(f"{_LISTEN_HINT}; {show(host)} is not a host name or address")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"{_LISTEN_HINT}; the port must be 1-65535, got {show(port_text)}")
    return host, int(port_text)


def _check_listen(value: str) -> str:
    try:
        parse_listen(value)
    except ValueError as exc:
        raise invalid("listen", str(exc)) from None
    return value


def _check_public_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid("url", f"expected an http:// or https:// URL, got {show(value)}")
    return value.rstrip("/")


_URL_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _check_database(value: str) -> str:
    is_url = _URL_SCHEME_RE.match(value) is not None
    if not value.strip() or (is_url and not value.startswith(("postgresql://", "postgres://"))):
        reason = f"expected a SQLite file path or a postgresql:// URL, got {show(value)}"
        raise invalid("database", reason)
    return value


_LOCATION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _check_location(value: str) -> str:
    if not _LOCATION_RE.match(value):
        reason = (
            "expected a label of letters, digits, '.', '_' or '-' (at most 64, starting with "
            f"a letter or digit), got {show(value)}"
        )
        raise invalid("location", reason)
    return value


#: A location's name, as ``agent.location`` and a check's ``locations`` spell it.
LocationName = Annotated[str, AfterValidator(_check_location)]


def _check_lease(value: float) -> float:
    if not 3.0 <= value <= 3600.0:
        raise invalid("lease_seconds", f"expected 3 s to 1 h, got {value:g} s")
    return value


class RetentionSection(BaseModel):
    """How long results are kept at each resolution."""

    model_config = SECTION_CONFIG

    raw: PositiveDuration = 14 * 86400.0
    hourly: PositiveDuration = 90 * 86400.0
    daily: PositiveDuration = 400 * 86400.0


class AgentSection(BaseModel):
    """The agent process: where it stores results and how much it may do at once."""

    model_config = SECTION_CONFIG

    database: Annotated[str, AfterValidator(_check_database)] = "var/nyxmon.db"
    concurrency: Annotated[int, Field(ge=1, le=100_000)] = 500
    per_host_concurrency: Annotated[int, Field(ge=1, le=100_000)] = 20
    retention: RetentionSection = RetentionSection()
    shutdown_grace: Duration = 10.0
    #: Where this agent probes from: agents of one location on one PostgreSQL database
    #: share the probes of the checks that name it (one owner per check and location).
    location: Annotated[str, AfterValidator(_check_location)] = "default"
    #: How long a check lease lasts without renewal (several agents on PostgreSQL): a
    #: killed agent's checks move to the others within about this long.
    lease_seconds: Annotated[Duration, AfterValidator(_check_lease)] = 15.0
    #: An RDAP server asked for every domain's expiration ([DOMAIN_EXPIRATION]); without it,
    #: the server of each TLD is found in the bootstrap file.
    rdap_url: Annotated[str, AfterValidator(_check_public_url)] | None = None
    rdap_bootstrap_url: Annotated[str, AfterValidator(_check_public_url)] = (
        "https://data.iana.org/rdap/dns.json"
    )


class WebSection(BaseModel):
    """The web plane: dashboard, API, status page, /metrics."""

    model_config = SECTION_CONFIG

    listen: Annotated[str, AfterValidator(_check_listen)] = "127.0.0.1:8080"
    public_url: Annotated[str, AfterValidator(_check_public_url)] | None = None
    status_pages: list[StatusPageSection] = []
    metrics_token: Annotated[str, AfterValidator(check_metrics_token)] | None = None
    admin_password_file: NonEmptyStr | None = None
    secure_cookies: Boolean = False
    trusted_proxies: list[Annotated[str, AfterValidator(check_trusted_proxy)]] = []
    separate_process: Boolean = True


class DefaultsSection(BaseModel):
    """Values every check gets unless it sets its own."""

    model_config = SECTION_CONFIG

    interval: IntervalDuration = DEFAULT_INTERVAL
    timeout: TimeoutDuration = DEFAULT_TIMEOUT
    alert: AlertSection = AlertSection()


class ServiceSection(BaseModel):
    """One service; its ``checks`` are validated one by one against the registered types."""

    model_config = SECTION_CONFIG

    name: NonEmptyStr
    group: str = ""
    description: str = ""
    labels: Labels = {}
    checks: list[Any] = []
