"""What a loaded config gives the rest of NyxMon: frozen settings with durations in seconds.

These are plain dataclasses, not the pydantic models of the file, so nothing downstream depends
on how the file is spelled; paths are already resolved against the config file's folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from nyxmon.config.issues import ConfigIssue
from nyxmon.config.web import StatusPage
from nyxmon.domain.alerting import AlertPolicy, MaintenanceWindow, Route, apply_overrides
from nyxmon.domain.model import Check, Service

__all__ = [
    "DEFAULT_INTERVAL",
    "DEFAULT_TIMEOUT",
    "AgentConfig",
    "CheckDefaults",
    "LoadedConfig",
    "RetentionPolicy",
    "WebConfig",
]

DEFAULT_INTERVAL = 60.0
"""Seconds between runs of a check when neither it nor the file's ``defaults`` say."""
DEFAULT_TIMEOUT = 10.0
"""Seconds one run may take when neither the check nor the file's ``defaults`` say."""


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Seconds to keep raw results, hourly roll-ups and daily roll-ups."""

    raw: float = 14 * 86400.0
    hourly: float = 90 * 86400.0
    daily: float = 400 * 86400.0


@dataclass(frozen=True, slots=True)
class WebConfig:
    """Where the web plane listens, the URL people reach it at (for links in alerts), its
    status pages and security settings (``admin_password_file`` is an absolute path)."""

    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = "http://127.0.0.1:8080"
    status_pages: tuple[StatusPage, ...] = ()
    metrics_token: str | None = None
    admin_password_file: str | None = None
    secure_cookies: bool = False
    #: Reverse proxies (addresses, CIDR networks) whose forwarded headers are believed.
    trusted_proxies: tuple[str, ...] = ()
    #: Serve the web plane from a process of its own (``nyxmon run``), so web load never takes
    #: the interpreter the probes run on; false: a thread of the agent's process.
    separate_process: bool = True

    @property
    def listen(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class CheckDefaults:
    """Interval, timeout (seconds) and alert policy of checks that do not set their own.

    The one source of defaults for a new check, however it is created: the file's checks, the
    web form, the API and ``nyxmon check add`` all take the loaded file's ``defaults`` (its
    :attr:`AgentConfig.defaults`); these values apply only where the file says nothing.
    """

    interval: float = DEFAULT_INTERVAL
    timeout: float = DEFAULT_TIMEOUT
    alert: AlertPolicy = field(default_factory=AlertPolicy)


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """Everything but the services: agent settings, web settings and check defaults.

    ``database`` is an absolute SQLite path (``:memory:`` stays as is) or a PostgreSQL URL.
    """

    database: str = "var/nyxmon.db"
    concurrency: int = 500
    per_host_concurrency: int = 20
    retention: RetentionPolicy = RetentionPolicy()
    shutdown_grace: float = 10.0
    location: str = "default"
    lease_seconds: float = 15.0
    rdap_url: str | None = None
    rdap_bootstrap_url: str = "https://data.iana.org/rdap/dns.json"
    web: WebConfig = WebConfig()
    defaults: CheckDefaults = CheckDefaults()

    @property
    def uses_postgres(self) -> bool:
        return self.database.startswith(("postgresql://", "postgres://"))


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    """A valid config file: settings, services and checks (``source=config``), and warnings.

    ``check_lines`` maps each check id to the line it is defined on, so later errors about a
    check (a probe that cannot run) can still point into the file. ``policies`` maps each check
    id to its effective alert policy (``agent.defaults.alert`` plus the check's ``alert``
    overrides); a check added later through the API gets :meth:`policy_for`.
    """

    path: Path
    agent: AgentConfig
    services: tuple[Service, ...]
    checks: tuple[Check, ...]
    warnings: tuple[ConfigIssue, ...] = ()
    check_lines: MappingProxyType[str, int] = field(default_factory=lambda: MappingProxyType({}))
    routes: tuple[Route, ...] = ()
    maintenance: tuple[MaintenanceWindow, ...] = ()
    policies: MappingProxyType[str, AlertPolicy] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def policy_for(self, check: Check) -> AlertPolicy:
        """The effective alert policy of any check: the file's defaults plus its overrides."""
        return apply_overrides(self.agent.defaults.alert, check.alert)

    def summary(self) -> str:
        """``"3 services, 12 checks (http: 8, dns: 4)"``."""
        counts: dict[str, int] = {}
        for check in self.checks:
            counts[check.type] = counts.get(check.type, 0) + 1
        by_type = ", ".join(f"{name}: {n}" for name, n in sorted(counts.items(), key=_by_count))
        services = _plural(len(self.services), "service")
        checks = _plural(len(self.checks), "check")
        return f"{services}, {checks}" + (f" ({by_type})" if by_type else "")


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    return (-item[1], item[0])


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
