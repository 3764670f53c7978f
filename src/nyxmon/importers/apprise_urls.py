"""Apprise URLs for the notifiers other monitors configure field by field.

Gatus and Uptime Kuma both describe a notifier as fields (a server, a topic, a token); Apprise
wants one URL. These builders write that URL from the fields, and :func:`url_problem` asks
Apprise whether it understands the result (skipped while a ``${VAR}`` is still in it), so a
route is only written live when Apprise can use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote, urlencode, urlsplit

__all__ = [
    "email_url",
    "gotify_url",
    "matrix_url",
    "ntfy_url",
    "pushover_url",
    "signal_url",
    "url_problem",
]


def _q(text: object) -> str:
    return quote(str(text), safe="${}")


def _query(options: dict[str, object]) -> str:
    kept = {k: str(v) for k, v in options.items() if v not in (None, "", [])}
    return f"?{urlencode(kept, safe='${},@+')}" if kept else ""


def _host_of(server: str) -> tuple[bool, str]:
    """``https://push.example.com:8443/base`` -> (secure, ``push.example.com:8443/base``)."""
    parts = urlsplit(server if "://" in server else f"https://{server}")
    rest = parts.netloc + parts.path.rstrip("/")
    return parts.scheme != "http", rest


def ntfy_url(
    server: str,
    topic: str,
    *,
    priority: object = None,
    token: str | None = None,
    user: str | None = None,
    password: str | None = None,
) -> str:
    secure, host = _host_of(server or "https://ntfy.sh")
    auth = ""
    if token:
        auth = f"{_q(token)}@"
    elif user:
        auth = f"{_q(user)}:{_q(password or '')}@"
    scheme = "ntfys" if secure else "ntfy"
    return f"{scheme}://{auth}{host}/{_q(topic)}{_query({'priority': priority})}"


def gotify_url(server: str, token: str, *, priority: object = None) -> str:
    secure, host = _host_of(server)
    scheme = "gotifys" if secure else "gotify"
    return f"{scheme}://{host}/{_q(token)}{_query({'priority': priority})}"


def pushover_url(
    user_key: str,
    app_token: str,
    *,
    priority: object = None,
    device: str | None = None,
    sound: str | None = None,
) -> str:
    options = {"priority": priority, "sound": sound}
    tail = f"/{_q(device)}" if device else ""
    return f"pover://{_q(user_key)}@{_q(app_token)}{tail}{_query(options)}"


def email_url(
    host: str,
    port: int | None,
    *,
    secure: bool,
    user: str | None,
    password: str | None,
    sender: str | None,
    to: Iterable[str],
) -> str:
    auth = f"{_q(user)}:{_q(password or '')}@" if user else ""
    where = f"{host}:{port}" if port else host
    options: dict[str, object] = {"from": sender, "to": ",".join(to)}
    if secure and port == 465:
        options["mode"] = "ssl"
    scheme = "mailtos" if secure else "mailto"
    return f"{scheme}://{auth}{where}{_query(options)}"


def matrix_url(server: str, token: str, room: str) -> str:
    secure, host = _host_of(server)
    scheme = "matrixs" if secure else "matrix"
    return f"{scheme}://{_q(token)}@{host}/{quote(room, safe='!:#${}')}"


def signal_url(api_url: str, number: str, recipients: Iterable[str]) -> str:
    secure, host = _host_of(api_url)
    scheme = "signals" if secure else "signal"
    targets = "/".join(_q(r) for r in recipients)
    return f"{scheme}://{host}/{_q(number)}/{targets}"


def url_problem(url: str) -> str | None:
    """Why Apprise cannot use ``url``, or None (also while a ``${VAR}`` is still unresolved)."""
    if "${" in url:
        return None
    from nyxmon.notify.apprise_provider import apprise_url_problem  # Apprise loads slowly

    return apprise_url_problem(url)
