"""The web plane's settings: the config file's ``web:`` section plus tunables tests may change.

A frozen record handed to :func:`nyxmon.web.create_app`; nothing in the web package reads the
config file or the environment on its own, except ``NYXMON_ADMIN_PASSWORD`` at first start.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from nyxmon.config import WebConfig
from nyxmon.config.web import StatusPage

__all__ = ["WebSettings"]


@dataclass(frozen=True, slots=True)
class WebSettings:
    """Where to listen and how the web plane behaves.

    ``admin_password`` (tests, embedding) wins over ``NYXMON_ADMIN_PASSWORD`` and
    ``admin_password_file``; all three only matter while no user exists yet.
    """

    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = "http://127.0.0.1:8080"
    status_pages: tuple[StatusPage, ...] = ()
    metrics_token: str | None = None
    admin_password_file: str | None = None
    admin_password: str | None = None
    secure_cookies: bool = False
    #: Seconds a login lasts at most, and without being used.
    session_max_age: float = 7 * 86400.0
    session_idle: float = 86400.0
    #: Addresses and networks of reverse proxies whose X-Forwarded-For, X-Forwarded-Proto and
    #: Forwarded headers are believed (``web.trusted_proxies``); nobody's by default.
    trusted_proxies: tuple[str, ...] = ()
    #: Failed logins allowed per client address and per user name within ``login_window``.
    login_failures: int = 5
    login_window: float = 300.0
    #: Timeout of agent commands (add, pause, ...) and of ``POST /checks/{id}/run``.
    command_timeout: float = 10.0
    run_timeout: float = 30.0
    #: Worker threads for blocking store reads: few, so a hammered dashboard cannot flood the
    #: process with threads competing for the GIL with the probe loop.
    read_threads: int = 4
    #: Status changes are gathered this long into one Server-Sent Event.
    events_coalesce: float = 0.3
    events_keepalive: float = 15.0
    #: Seconds between looks at the store for checks added, changed or removed elsewhere
    #: (the CLI, a config reload), while a browser listens to the event stream.
    catalog_poll: float = 1.0
    #: Seconds a cached answer of the hot listings (overview, check list, badges) is reused.
    cache_seconds: float = 1.0
    #: Seconds public pages and badges may be cached by browsers and proxies; the server's own
    #: copy is never older than this either (mid-incident, a status page must keep up).
    public_max_age: int = 10
    #: Seconds a public answer is served from memory as it is (web/public/fast.py).
    public_fresh: float = 1.0
    #: Share of one CPU the web plane may use on average, and the burst it may use at once
    #: (seconds of CPU): the rest is the probes' (see :mod:`nyxmon.web.budget`).
    cpu_share: float = 0.25
    cpu_burst: float = 0.02

    @classmethod
    def from_config(cls, web: WebConfig, **overrides: Any) -> WebSettings:
        settings = cls(
            host=web.host,
            port=web.port,
            public_url=web.public_url,
            status_pages=web.status_pages,
            metrics_token=web.metrics_token,
            admin_password_file=web.admin_password_file,
            secure_cookies=web.secure_cookies,
            trusted_proxies=web.trusted_proxies,
        )
        return replace(settings, **overrides) if overrides else settings

    @property
    def listen(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
