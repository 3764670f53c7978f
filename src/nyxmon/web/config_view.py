"""What a web plane away from the agent's process shows of the config file.

A web plane in a process of its own (:mod:`nyxmon.web.remote`, :mod:`nyxmon.web.shared_store`)
reads the same config file as the agent: the check defaults its forms start from, the routes
and maintenance windows it lists, the public URL its links use. ``reload()`` takes the file
again (the agent applies it; the web plane only shows it).
"""

from __future__ import annotations

from nyxmon.config import CheckDefaults, LoadedConfig
from nyxmon.domain.alerting.maintenance import MaintenanceWindow
from nyxmon.domain.alerting.types import Route

__all__ = ["ConfigView"]


class ConfigView:
    """The config-backed part of a :class:`~nyxmon.web.context.WebContext`."""

    _config: LoadedConfig

    @property
    def defaults(self) -> CheckDefaults:
        return self._config.agent.defaults

    @property
    def routes(self) -> tuple[Route, ...]:
        return self._config.routes

    @property
    def lease_seconds(self) -> float:
        return self._config.agent.lease_seconds

    @property
    def maintenance(self) -> tuple[MaintenanceWindow, ...]:
        return self._config.maintenance

    @property
    def public_url(self) -> str:
        return self._config.agent.web.public_url

    def reload(self, config: LoadedConfig) -> None:
        self._config = config
