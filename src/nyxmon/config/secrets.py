"""Every secret a config file holds, registered for redaction as the file is loaded.

Route URLs (Apprise puts tokens in them), webhook URLs, signing keys and headers, the
metrics token, and the secrets in check params (passwords, tokens, credentials in URLs): once
loaded, none of them can appear in an answer, a log line or a stored error of this process
(:mod:`nyxmon.domain.redaction`).
"""

from __future__ import annotations

from collections.abc import Iterable

from nyxmon.config.settings import LoadedConfig
from nyxmon.domain.alerting.types import Route
from nyxmon.domain.model import Check
from nyxmon.domain.redaction import register, secrets_in_params, secrets_in_url

__all__ = ["register_config_secrets", "secrets_of_checks", "secrets_of_routes"]


def secrets_of_routes(routes: Iterable[Route]) -> set[str]:
    found: set[str] = set()
    for route in routes:
        for url in (*route.urls, route.webhook_url or ""):
            if url:
                found |= secrets_in_url(url)
        if route.secret:
            found.add(route.secret)
        if route.telegram is not None:
            found.add(route.telegram.bot_token)
            found |= secrets_in_url(route.telegram.api_url)
        found |= secrets_in_params({"headers": dict(route.headers)}) | {
            value for name, value in route.headers.items() if name.lower() == "authorization"
        }
    return found


def secrets_of_checks(checks: Iterable[Check]) -> set[str]:
    found: set[str] = set()
    for check in checks:
        found |= secrets_in_params(check.params)
    return found


def register_config_secrets(config: LoadedConfig) -> None:
    secrets = secrets_of_routes(config.routes) | secrets_of_checks(config.checks)
    if config.agent.web.metrics_token:
        secrets.add(config.agent.web.metrics_token)
    register(secrets)
