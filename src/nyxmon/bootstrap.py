"""Builds NyxMon's object graph: the only module that knows every concrete class.

Everything else receives its dependencies; tests build their own graphs from the same parts.
"""

from __future__ import annotations

from pathlib import Path

from nyxmon.agent.agent import Agent
from nyxmon.config import AgentConfig, LoadedConfig
from nyxmon.errors import ConfigError
from nyxmon.notify import RetryPolicy
from nyxmon.probes.registry import ExecutorRegistry
from nyxmon.runtime import Backend
from nyxmon.service_layer.storage import Store
from nyxmon.store.sqlite.store import SqliteStore

__all__ = ["build_agent", "open_store"]


def open_store(settings: AgentConfig | str, *, readonly: bool = False) -> Store:
    """Open the store named by ``agent.database`` (or a path), creating a SQLite file's folder."""
    database = settings if isinstance(settings, str) else settings.database
    if database.startswith(("postgresql://", "postgres://")):
        raise ConfigError(
            "agent.database: PostgreSQL storage is not available in this version yet; "
            "use a SQLite file path"
        )
    if database != ":memory:" and not readonly:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    return SqliteStore(database, readonly=readonly)


def build_agent(
    config: LoadedConfig,
    *,
    store: Store | None = None,
    registry: ExecutorRegistry | None = None,
    backend: Backend | None = None,
    watch_period: float = 2.0,
    cleaner_period: float = 60.0,
    notify_retry: RetryPolicy | None = None,
) -> Agent:
    """An agent for ``config`` on its configured store (or the one given)."""
    return Agent(
        config,
        store if store is not None else open_store(config.agent),
        registry=registry,
        backend=backend,
        watch_period=watch_period,
        cleaner_period=cleaner_period,
        notify_retry=notify_retry,
    )
