"""Rules that span several keys: unique names and ids, sane intervals, timeouts that fit.

The schema checks each value on its own; these rules need the whole file. They run on every
service and check that passed the schema, and on a stand-in for each check that did not (its
name, id and whatever timing keys are valid), so a file with a type error and a duplicate id
gets both messages in one round.

``timeout >= interval`` is an error, not a warning: with start-to-start scheduling the next run
would be due while the last is still waiting, so results would overlap or runs be skipped, and
neither is what the user asked for. When the timeout is inherited from ``defaults`` the message
says so and points at the check's interval, the key the user just wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from nyxmon.config._text import format_path, show
from nyxmon.config.checks import CheckBase
from nyxmon.config.durations import spell_duration
from nyxmon.config.issues import ConfigIssue
from nyxmon.config.loader import KeyPath
from nyxmon.config.schema import AgentSection, DefaultsSection, ServiceSection
from nyxmon.domain.model import check_id_for, slugify

__all__ = ["MIN_INTERVAL", "Findings", "ValidCheck", "ValidService", "check_semantics"]

MIN_INTERVAL = 1.0
"""Shortest interval a check may have (seconds): below it a monitor becomes a load generator."""


@dataclass(frozen=True, slots=True)
class ValidCheck:
    """A check that passed the schema, with where it sits in the file and its final id.

    ``complete`` is False for the stand-in of a check that failed the schema: it takes part in
    the rules on ids and timing, never in those that need the whole check (its alert policy).
    """

    path: KeyPath
    spec: CheckBase
    check_id: str
    complete: bool = True


@dataclass(frozen=True, slots=True)
class ValidService:
    """A service that passed the schema, with its checks that did."""

    path: KeyPath
    section: ServiceSection
    checks: list[ValidCheck]


@dataclass(slots=True)
class Findings:
    """Errors (the file is refused) and warnings (it loads, but look at this)."""

    errors: list[ConfigIssue] = field(default_factory=list)
    warnings: list[ConfigIssue] = field(default_factory=list)


Locate = Callable[[KeyPath], "int | None"]


def check_semantics(
    agent: AgentSection | None,
    defaults: DefaultsSection | None,
    services: Sequence[ValidService],
    *,
    any_services_written: bool,
    locate: Locate,
    filename: str | None,
) -> Findings:
    """Apply every cross-key rule; ``locate`` maps a key path to its line.

    ``agent`` or ``defaults`` is None when that section is itself invalid; the rules that need
    it are skipped rather than judged against values the user did not write.
    """
    found = Findings()

    def error(path: KeyPath, message: str) -> None:
        found.errors.append(ConfigIssue(filename, locate(path), format_path(path), message))

    def warn(path: KeyPath, message: str) -> None:
        found.warnings.append(ConfigIssue(filename, locate(path), format_path(path), message))

    if defaults is not None:
        _check_defaults(defaults, error)
    if agent is not None:
        _check_agent(agent, warn)
    if not services and not any_services_written:
        warn(("services",), "no services are defined: the agent will start but probe nothing")
    seen_services: dict[str, ValidService] = {}
    seen_ids: dict[str, ValidCheck] = {}
    seen_keys: dict[str, ValidCheck] = {}
    for service in services:
        name = service.section.name
        first = seen_services.setdefault(slugify(name), service)
        if first is not service:
            error(
                (*service.path, "name"),
                f"duplicate service name {show(name)}: service {show(first.section.name)} is "
                f"already defined at {format_path(first.path)} (line {locate(first.path)})",
            )
        if not service.section.checks:
            warn(service.path, f"service {show(name)} has no checks")
        for check in service.checks:
            _check_timing(check, defaults, error)
            if check.complete and check.spec.type == "push":
                _check_ping_key(check, seen_keys, error, locate)
            if check.complete:
                _check_locations(check, agent, error)
            other = seen_ids.setdefault(check.check_id, check)
            if other is not check:
                key = "id" if check.spec.id is not None else "name"
                error((*check.path, key), _duplicate_id_message(check, other, name, locate))
    return found


def _check_defaults(defaults: DefaultsSection, error: Callable[[KeyPath, str], None]) -> None:
    if defaults.interval < MIN_INTERVAL:
        error(
            ("defaults", "interval"),
            f"expected an interval of at least {spell_duration(MIN_INTERVAL)}, "
            f"got {spell_duration(defaults.interval)}",
        )
    if defaults.timeout >= defaults.interval:
        error(
            ("defaults", "timeout"),
            f"expected a timeout shorter than defaults.interval "
            f"({spell_duration(defaults.interval)}), got {spell_duration(defaults.timeout)}",
        )


def _check_agent(agent: AgentSection, warn: Callable[[KeyPath, str], None]) -> None:
    if agent.per_host_concurrency > agent.concurrency:
        warn(
            ("agent", "per_host_concurrency"),
            f"per_host_concurrency ({agent.per_host_concurrency}) is above concurrency "
            f"({agent.concurrency}), so the global limit is the one that applies",
        )
    keep = agent.retention
    if not keep.raw <= keep.hourly <= keep.daily:
        warn(
            ("agent", "retention"),
            "expected raw <= hourly <= daily (coarser data kept longer), got "
            f"raw {spell_duration(keep.raw)}, hourly {spell_duration(keep.hourly)}, "
            f"daily {spell_duration(keep.daily)}",
        )


def _check_locations(
    check: ValidCheck, agent: AgentSection | None, error: Callable[[KeyPath, str], None]
) -> None:
    """Locations need agents there: a push check is pinged, not probed, and an agent on
    SQLite runs alone, so it can probe a check from its own location only."""
    names = check.spec.locations
    if not names:
        return
    if check.spec.type == "push":
        error(
            (*check.path, "locations"),
            "a push check is pinged, not probed: it cannot be probed from locations",
        )
        return
    if agent is None or agent.database.startswith(("postgresql://", "postgres://")):
        return
    others = [name for name in names if name != agent.location]
    if others:
        error(
            (*check.path, "locations"),
            f"location {show(others[0])} has no agent: on SQLite one agent runs every check, "
            f"from its own location ({show(agent.location)}); several locations need agents "
            "sharing a PostgreSQL database (agent.database: postgresql://...)",
        )


def _check_timing(
    check: ValidCheck, defaults: DefaultsSection | None, error: Callable[[KeyPath, str], None]
) -> None:
    spec = check.spec
    if spec.interval is not None and spec.interval < MIN_INTERVAL:
        error(
            (*check.path, "interval"),
            f"expected an interval of at least {spell_duration(MIN_INTERVAL)}, "
            f"got {spell_duration(spec.interval)}",
        )
        return
    if spec.type == "push":  # its timeout bounds a run from /start, not a probe per interval
        return
    interval = spec.interval
    timeout = spec.timeout
    if defaults is not None:
        interval = defaults.interval if interval is None else interval
        timeout = defaults.timeout if timeout is None else timeout
    if interval is None or timeout is None or timeout < interval:
        return
    if spec.timeout is not None:
        source = "the check's interval" if spec.interval is not None else "defaults.interval"
        error(
            (*check.path, "timeout"),
            f"expected a timeout shorter than {source} "
            f"({spell_duration(interval)}), got {spell_duration(timeout)}",
        )
    elif spec.interval is not None:
        error(
            (*check.path, "interval"),
            f"interval {spell_duration(interval)} is not longer than the timeout "
            f"{spell_duration(timeout)} inherited from defaults.timeout; set a shorter "
            "timeout on this check (or a longer interval)",
        )
    # Both inherited: already reported once at defaults.timeout.


def _check_ping_key(
    check: ValidCheck,
    seen: dict[str, ValidCheck],
    error: Callable[[KeyPath, str], None],
    locate: Locate,
) -> None:
    """A push check needs its own ping key: the key is how a ping finds its check."""
    key = getattr(check.spec, "token", None)
    if key is None:
        error(
            (*check.path, "token"),
            "a push check needs its ping key (token); write one, e.g. token: ${BACKUP_PING_KEY}, "
            "or create the check with `nyxmon check add --type push`, which generates one",
        )
        return
    other = seen.setdefault(key, check)
    if other is not check:
        error(
            (*check.path, "token"),
            f"this ping key is already the key of {format_path(other.path)} "
            f"(line {locate(other.path)}); each push check needs its own",
        )


def _duplicate_id_message(
    check: ValidCheck, other: ValidCheck, service_name: str, locate: Locate
) -> str:
    used = f"already used by {format_path(other.path)} (line {locate(other.path)})"
    if check.spec.id is not None:
        return f"duplicate check id {show(check.check_id)} (explicit): {used}; choose another id"
    derived = check_id_for(service_name, check.spec.name)
    return (
        f"duplicate check id {show(derived)} (derived from service {show(service_name)} and "
        f"check name {show(check.spec.name)}): {used}; rename the check or give it an explicit id"
    )
