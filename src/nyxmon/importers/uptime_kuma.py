"""Uptime Kuma's JSON backup to NyxMon's config: monitors, groups, tags, notifications.

The backup (Settings > Backup, Kuma 1.x; ``{"version", "notificationList", "monitorList"}``)
holds each monitor as Kuma's ``Monitor.toJSON`` writes it. The mapping, item by item:

- ``group`` monitors become services (``pathName`` is the name, the top group the heading);
  monitors without a parent go to the service ``Monitors``.
- ``type``: ``http`` -> ``http``, ``keyword`` -> ``http`` with ``keyword``/``keyword_absent``,
  ``json-query`` -> ``json`` with a ``[BODY].path`` condition, ``real-browser`` -> ``http``,
  ``port`` -> ``tcp``, ``ping`` -> ``icmp`` (``packetSize`` as ``payload_size``), ``dns`` ->
  ``dns``, ``push`` -> ``push``, ``grpc-keyword`` on ``grpc.health.v1.Health/Check`` ->
  ``grpc`` (other methods are held), ``postgres``/``mysql``/``redis`` -> the type of that name
  with the connection URL split into host, port, database and login, ``mqtt`` -> ``mqtt``
  (broker and login; waiting for a device's message is reported as dropped), ``smtp`` ->
  ``smtp``, ``websocket-upgrade`` -> ``websocket``, ``rabbitmq`` -> ``http`` on the
  management API's health check (what Kuma itself requests); the rest (Docker, SQL Server,
  MongoDB, Oracle, RADIUS, game servers, Kafka, SNMP, ...) has no NyxMon type and is written
  commented out.
- ``interval``, ``timeout``, ``maxretries`` + ``retryInterval`` (retries), ``resendInterval``
  (reminders), ``active`` (paused), ``accepted_statuscodes``, ``ignoreTls``, ``maxredirects``,
  ``method``, ``headers``, ``body``, basic auth, ``expiryNotification`` (a certificate
  condition), ``tags`` (labels), ``notificationIDList`` (routes).
- ``notificationList`` entries become routes: Telegram natively, ``webhook`` as a webhook,
  the others as Apprise URLs where Apprise has the scheme.

Kuma has no ``${VAR}`` syntax, so every string is kept literal (``$${``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from nyxmon.config import spell_duration
from nyxmon.importers.apprise_urls import (
    email_url,
    gotify_url,
    matrix_url,
    ntfy_url,
    pushover_url,
    signal_url,
    url_problem,
)
from nyxmon.importers.common import SourceError, fit_timing, host_port
from nyxmon.importers.draft import CheckDraft, ImportDraft, RouteDraft, literal
from nyxmon.importers.report import ImportReport

__all__ = ["UNGROUPED", "import_uptime_kuma"]

UNGROUPED = "Monitors"
_SIMPLE_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+|\[\d+\])*")
_NO_TYPE = {
    "docker": "Docker containers",
    "sqlserver": "Microsoft SQL Server",
    "mongodb": "MongoDB",
    "oracledb": "Oracle Database",
    "radius": "RADIUS",
    "gamedig": "game servers (GameDig)",
    "steam": "Steam game servers",
    "kafka-producer": "Kafka producers",
    "tailscale-ping": "Tailscale pings",
    "snmp": "SNMP",
    "ntp": "NTP",
    "sip-options": "SIP OPTIONS",
    "globalping": "Globalping probes",
    "system-service": "system services",
    "pm2": "PM2 processes",
    "manual": "manual status",
}
_SMTP_TLS = {"secure": "implicit", "starttls": "starttls", "nostarttls": "none"}


def read_backup(path: Path) -> dict[str, Any]:
    """The parsed backup; :class:`SourceError` says where it is not one."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"FILE: cannot read {str(path)!r}: {exc.strerror}") from None
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise SourceError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("monitorList"), list):
        raise SourceError(
            f"{path}: not an Uptime Kuma backup: expected a JSON object with monitorList "
            "(Settings > Backup > Export)"
        )
    return document


def import_uptime_kuma(path: Path) -> ImportDraft:
    """The draft for the Uptime Kuma backup at ``path``."""
    backup = read_backup(path)
    version = backup.get("version", "?")
    draft = ImportDraft(report=ImportReport(source=f"Uptime Kuma {version} backup {path.name}"))
    draft.defaults = {
        "alert": {"failure_threshold": 1, "success_threshold": 1, "send_on_resolved": True}
    }
    draft.header.append(
        "defaults.alert reproduces Kuma: DOWN once the retries failed, UP after one success, "
        "an UP notice after every outage."
    )
    if backup.get("proxyList"):
        draft.report.dropped("proxyList", "NyxMon probes do not go through proxies")
        draft.header.append("not carried over: proxyList: NyxMon probes do not go through proxies")
    routes = _routes(backup.get("notificationList") or [], draft)
    monitors = backup["monitorList"]
    for index, monitor in enumerate(monitors):
        if not isinstance(monitor, dict):
            raise SourceError(f"{path}: monitorList[{index}]: expected a monitor object")
    by_id = {m.get("id"): m for m in monitors}
    for index, monitor in enumerate(monitors):
        if monitor.get("type") == "group":
            _group(monitor, index, by_id, draft)
    for index, monitor in enumerate(monitors):
        if monitor.get("type") != "group":
            try:
                _monitor(monitor, index, by_id, routes, draft)
            except (ValueError, TypeError, AttributeError) as exc:
                name = monitor.get("name", "")
                raise SourceError(f"{path}: monitorList[{index}] {name!r}: {exc}") from None
    draft.routes = [route for route in routes.values() if route.checks]
    for route in routes.values():
        if not route.checks:
            why = route.held or "no monitor uses it"
            draft.report.dropped(route.source, f"route left out: {why}")
    return draft


# --- groups and monitors -----------------------------------------------------------------


def _path_name(monitor: dict[str, Any], by_id: dict[Any, dict[str, Any]]) -> list[str]:
    names: list[str] = []
    seen: set[Any] = set()
    current: dict[str, Any] | None = monitor
    while current is not None and current.get("id") not in seen:
        seen.add(current.get("id"))
        names.insert(0, str(current.get("name", "")))
        current = by_id.get(current.get("parent"))
    return names


def _service_of(
    monitor: dict[str, Any], by_id: dict[Any, dict[str, Any]], draft: ImportDraft
) -> str:
    parent = by_id.get(monitor.get("parent"))
    if parent is None or parent.get("type") != "group":
        return UNGROUPED
    return literal(" / ".join(_path_name(parent, by_id)))


def _group(
    monitor: dict[str, Any], index: int, by_id: dict[Any, dict[str, Any]], draft: ImportDraft
) -> None:
    names = _path_name(monitor, by_id)
    where = f'monitorList[{index}] "{monitor.get("name")}"'
    service = draft.service(
        literal(" / ".join(names)), group=literal(names[0]) if len(names) > 1 else ""
    )
    service.source = where
    if monitor.get("description"):
        service.description = literal(str(monitor["description"]))
    labels, _ = _labels(monitor.get("tags") or [], where, draft)
    service.labels = labels
    draft.report.mapped(where, "group monitor as service")
    if monitor.get("notificationIDList"):
        draft.report.dropped(
            where, "a group's own notifications (its children are routed one by one)"
        )
        service.notes.append("not carried over: the group's own notifications")


def _labels(
    tags: list[dict[str, Any]], where: str, draft: ImportDraft
) -> tuple[dict[str, str], list[str]]:
    labels: dict[str, str] = {}
    notes: list[str] = []
    for tag in tags:
        name = literal(str(tag.get("name", "")))
        value = literal(str(tag.get("value") or ""))
        if name in labels and labels[name] != value:
            draft.report.approximated(where, f"tag {name!r} given twice; the last value kept")
            notes.append(f"approximated: tag {name!r} had several values; NyxMon keeps one")
        labels[name] = value
        draft.report.mapped(where, "tag as label")
    return labels, notes


def _number(monitor: dict[str, Any], key: str, default: float) -> float:
    """``monitor[key]`` as a number (``default`` when unset); ``ValueError`` names the key."""
    value = monitor.get(key)
    if value in (None, ""):
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key}: expected a number, got {value!r}") from None


def _monitor(
    monitor: dict[str, Any],
    index: int,
    by_id: dict[Any, dict[str, Any]],
    routes: dict[str, RouteDraft],
    draft: ImportDraft,
) -> None:
    report = draft.report
    kind = str(monitor.get("type", ""))
    name = literal(str(monitor.get("name") or f"monitor {index + 1}"))
    where = f'monitorList[{index}] "{monitor.get("name")}"'
    check = CheckDraft(name=name, type=kind, source=where)
    _type_and_params(check, monitor, report)
    interval = _number(monitor, "interval", 60) or 60.0
    check.interval = interval
    if _number(monitor, "timeout", 0):
        check.timeout = _number(monitor, "timeout", 0)
    if monitor.get("active") in (False, 0):
        check.paused = True
    retries = int(_number(monitor, "maxretries", 0))
    if retries:
        check.alert["retries"] = retries
        check.alert["retry_interval"] = _number(monitor, "retryInterval", 0) or interval
    resend = int(_number(monitor, "resendInterval", 0))
    if resend:
        check.alert["remind_every"] = spell_duration(resend * interval)
    if monitor.get("upsideDown"):
        check.hold("upside-down mode (up when the service fails) has no NyxMon equivalent")
    if monitor.get("description"):
        report.approximated(where, "description kept as a comment")
        check.notes.append(f"description: {monitor['description']}")
    check.labels, notes = _labels(monitor.get("tags") or [], where, draft)
    check.notes.extend(notes)
    for notification_id, on in (monitor.get("notificationIDList") or {}).items():
        route = routes.get(str(notification_id))
        if not on:
            continue
        if route is None:
            report.dropped(where, f"notification {notification_id} is not in the backup")
            continue
        route.checks.append(check)
        report.mapped(where, "notification as route")
    fit_timing(check, report, interval)
    draft.service(_service_of(monitor, by_id, draft)).checks.append(check)


def _type_and_params(check: CheckDraft, monitor: dict[str, Any], report: ImportReport) -> None:
    kind, where = check.type, check.source
    host = literal(str(monitor.get("hostname") or ""))
    port = monitor.get("port")
    if kind in ("http", "keyword", "json-query", "real-browser"):
        check.type = "json" if kind == "json-query" else "http"
        _http(check, monitor, report)
        if kind == "real-browser":
            report.approximated(where, "real-browser became a plain HTTP request")
            check.notes.append("approximated: Kuma loaded this page in a browser; NyxMon GETs it")
    elif kind == "port":
        check.type, check.params = "tcp", {"host": host, "port": port}
    elif kind == "ping":
        check.type, check.params = "icmp", {"host": host}
        size = monitor.get("packetSize")
        if size not in (None, 56):
            check.params["payload_size"] = int(size)
    elif kind == "dns":
        check.type = "dns"
        check.params = {
            "query_name": host,
            "record_type": str(monitor.get("dns_resolve_type") or "A"),
            "server": str(monitor.get("dns_resolve_server") or "1.1.1.1"),
        }
        if port and int(port) != 53:
            check.params["port"] = int(port)
        check.params["allow_empty_answer"] = False
    elif kind == "push":
        check.params = {"token": literal(str(monitor.get("pushToken") or ""))}
    elif kind == "grpc-keyword":
        _grpc(check, monitor, report)
    elif kind == "mqtt":
        _mqtt(check, monitor, host, port, report)
    elif kind in ("postgres", "mysql", "redis"):
        _database(check, monitor, report)
    elif kind == "smtp":
        check.params = {"host": host, "port": port or 25}
        security = monitor.get("smtpSecurity")
        if security in _SMTP_TLS:
            check.params["tls"] = _SMTP_TLS[security]
    elif kind == "websocket-upgrade":
        check.type, check.params = "websocket", {"url": literal(str(monitor.get("url") or ""))}
        if monitor.get("ignoreTls"):
            check.params["verify_tls"] = False
    elif kind == "rabbitmq":
        _rabbitmq(check, monitor, report)
    else:
        what = _NO_TYPE.get(kind, f"Kuma's {kind!r} monitors")
        check.params = {k: v for k, v in (("host", host), ("port", port)) if v}
        check.hold(f"NyxMon has no check type for {what}")
    if "port" in check.params and check.params["port"] is not None:
        check.params["port"] = int(check.params["port"])
    check.params = {k: v for k, v in check.params.items() if v is not None}


def _grpc(check: CheckDraft, monitor: dict[str, Any], report: ImportReport) -> None:
    """``grpc-keyword`` calling the standard health service becomes a ``grpc`` check; a call
    to any other method has no NyxMon equivalent and is held."""
    check.type = "grpc"
    where = check.source
    host, port = host_port(str(monitor.get("grpcUrl") or ""), None)
    check.params = {"host": literal(host), "port": port, "tls": bool(monitor.get("grpcEnableTls"))}
    service = str(monitor.get("grpcServiceName") or "")
    method = str(monitor.get("grpcMethod") or "")
    if service != "grpc.health.v1.Health" or method.lower() != "check":
        check.hold(
            f"Kuma called {service or '?'}/{method or '?'} and looked for a keyword in the "
            "answer; NyxMon's grpc check speaks only the standard health-checking protocol"
        )
        return
    try:
        request = json.loads(str(monitor.get("grpcBody") or "{}"))
    except ValueError:
        request = {}
    if isinstance(request, dict) and request.get("service"):
        check.params["service"] = literal(str(request["service"]))
    keyword = str(monitor.get("keyword") or "")
    inverted = bool(monitor.get("invertKeyword"))
    if keyword == "SERVING" and not inverted:
        report.mapped(where, "keyword SERVING as the grpc check's own pass")
        check.notes.append("keyword SERVING: a NyxMon grpc check passes only on SERVING")
    elif keyword:
        operator = "!=" if inverted else "=="
        check.conditions.append(literal(f"[VALUE] {operator} pat(*{keyword}*)"))


def _mqtt(
    check: CheckDraft, monitor: dict[str, Any], host: str, port: Any, report: ImportReport
) -> None:
    """``mqtt``: the broker and login. Kuma waited for someone else's message on a topic;
    NyxMon's round trip publishes its own, which must not land on a device's topic, so the
    topic is reported as dropped and the check connects and authenticates."""
    check.params = {"host": host, "port": port or 1883}
    for source, target in (("mqttUsername", "username"), ("mqttPassword", "password")):
        if monitor.get(source):
            check.params[target] = literal(str(monitor[source]))
    topic = monitor.get("mqttTopic")
    if topic:
        expected = monitor.get("mqttSuccessMessage")
        what = f"waiting for a message on {topic!r}" + (
            f" containing {expected!r}" if expected else ""
        )
        why = "NyxMon's mqtt check publishes its own message and reads it back"
        report.dropped(check.source, f"{what}: {why}")
        check.notes.append(f"not carried over: {what} ({why})")


_DEFAULT_PORTS = {"postgres": 5432, "mysql": 3306, "redis": 6379}
_SCHEMES = {
    "postgres": ("postgres", "postgresql"),
    "mysql": ("mysql", "mariadb"),
    "redis": ("redis",),
}
_SSLMODES = {"disable", "prefer", "require", "verify-ca", "verify-full"}


def _database(check: CheckDraft, monitor: dict[str, Any], report: ImportReport) -> None:
    """``postgres``, ``mysql``, ``redis``: Kuma's connection URL split into the type's host,
    port, database and login; anything but such a URL is held, saying why."""
    kind = check.type
    dsn = str(monitor.get("databaseConnectionString") or "")
    parts = urlsplit(dsn)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme.lower() not in _SCHEMES[kind] or not parts.hostname:
        check.params = {"host": ""}
        scheme = "rediss:// (TLS)" if parts.scheme.lower() == "rediss" else "this connection string"
        check.hold(
            f"{scheme} cannot be written as NyxMon's {kind} params (host, port, database, "
            "username, password): fill them in, then uncomment"
        )
        return
    check.params = {"host": literal(parts.hostname), "port": port or _DEFAULT_PORTS[kind]}
    database = unquote(parts.path.lstrip("/"))
    if database:
        check.params["database"] = int(database) if kind == "redis" else literal(database)
    if parts.username:
        check.params["username"] = literal(unquote(parts.username))
    if parts.password:
        check.params["password"] = literal(unquote(parts.password))
    options = dict(parse_qsl(parts.query))
    if kind == "postgres" and options.get("sslmode") in _SSLMODES:
        check.params["sslmode"] = options.pop("sslmode")
    for key in options:
        report.dropped(check.source, f"connection option {key!r}")
        check.notes.append(f"not carried over: connection option {key!r}")
    if kind != "redis" and monitor.get("databaseQuery"):
        check.params["query"] = literal(str(monitor["databaseQuery"]))


def _http(check: CheckDraft, monitor: dict[str, Any], report: ImportReport) -> None:
    where = check.source
    params: dict[str, Any] = {"url": literal(str(monitor.get("url") or ""))}
    method = str(monitor.get("method") or "GET").upper()
    if method != "GET":
        params["method"] = method
    headers = monitor.get("headers")
    if headers:
        try:
            parsed = json.loads(headers) if isinstance(headers, str) else headers
            params["headers"] = {literal(str(k)): literal(str(v)) for k, v in parsed.items()}
        except (ValueError, AttributeError):
            report.dropped(where, "headers are not a JSON object")
            check.notes.append("not carried over: headers (not a JSON object)")
    body = monitor.get("body")
    if body:
        if monitor.get("httpBodyEncoding") in (None, "json"):
            try:
                params["json_body"] = json.loads(body)
            except ValueError:
                params["body"] = literal(str(body))
        else:
            params["body"] = literal(str(body))
    codes = monitor.get("accepted_statuscodes") or ["200-299"]
    params["expected_status"] = [str(code) for code in codes]
    if monitor.get("ignoreTls"):
        params["verify_tls"] = False
    redirects = monitor.get("maxredirects")
    if redirects == 0:
        params["follow_redirects"] = False
    elif isinstance(redirects, int):
        params["max_redirects"] = min(redirects, 50)
    auth = monitor.get("authMethod")
    if auth == "basic":
        params["basic_auth"] = {
            "username": literal(str(monitor.get("basic_auth_user") or "")),
            "password": literal(str(monitor.get("basic_auth_pass") or "")),
        }
    elif auth:
        report.dropped(where, f"{auth} authentication")
        check.notes.append(f"not carried over: {auth} authentication (NyxMon has basic and bearer)")
    if check.type == "http" and monitor.get("keyword"):
        key = "keyword_absent" if monitor.get("invertKeyword") else "keyword"
        params[key] = literal(str(monitor["keyword"]))
    if monitor.get("type") == "json-query":
        _json_query(check, monitor, report)
    if monitor.get("expiryNotification"):
        check.conditions.append("[CERTIFICATE_EXPIRATION] > 7d")
        report.approximated(where, "certificate expiry notice became a condition (> 7d)")
        check.notes.append(
            "approximated: Kuma's certificate expiry notice is a condition here: the check "
            "goes DOWN when less than 7 days are left"
        )
    check.params = params


def _json_query(check: CheckDraft, monitor: dict[str, Any], report: ImportReport) -> None:
    path = str(monitor.get("jsonPath") or "").strip()
    path = path[2:] if path.startswith("$.") else path.lstrip("$")
    expected = str(monitor.get("expectedValue") if monitor.get("expectedValue") is not None else "")
    operator = str(monitor.get("jsonPathOperator") or "==")
    if not _SIMPLE_PATH.fullmatch(path):
        check.held_conditions.append(
            (f"{monitor.get('jsonPath')} {operator} {expected}", "a JSONata expression, not a path")
        )
        return
    if operator == "contains":
        condition = f"[BODY].{path} == pat(*{expected}*)"
    else:
        condition = f"[BODY].{path} {'==' if operator == '=' else operator} {expected}"
    check.conditions.append(literal(condition))


def _rabbitmq(check: CheckDraft, monitor: dict[str, Any], report: ImportReport) -> None:
    raw = monitor.get("rabbitmqNodes") or "[]"
    try:
        nodes = json.loads(raw) if isinstance(raw, str) else list(raw)
    except ValueError:
        nodes = []
    check.type = "http"
    if not nodes:
        check.params = {"url": ""}
        check.hold("no RabbitMQ node URL in the backup")
        return
    base = str(nodes[0]).rstrip("/")
    check.params = {
        "url": literal(f"{base}/api/health/checks/alarms/"),
        "basic_auth": {
            "username": literal(str(monitor.get("rabbitmqUsername") or "")),
            "password": literal(str(monitor.get("rabbitmqPassword") or "")),
        },
        "expected_status": [200],
    }
    check.notes.append("RabbitMQ's management API health check, as Kuma requests it")
    if len(nodes) > 1:
        report.approximated(check.source, "only the first RabbitMQ node is checked")
        check.notes.append(f"approximated: only the first of {len(nodes)} nodes is checked")


# --- notifications -----------------------------------------------------------------------


def _routes(notifications: list[dict[str, Any]], draft: ImportDraft) -> dict[str, RouteDraft]:
    routes: dict[str, RouteDraft] = {}
    taken: set[str] = set()
    for index, notification in enumerate(notifications):
        where = f'notificationList[{index}] "{notification.get("name")}"'
        try:
            config = notification.get("config") or "{}"
            settings = json.loads(config) if isinstance(config, str) else dict(config)
        except ValueError:
            draft.report.dropped(where, "its config is not JSON")
            continue
        route = _route(settings, where, _route_name(notification, taken), draft.report)
        route.notes.insert(0, f"from Kuma notification {notification.get('name')!r}")
        if notification.get("active") in (False, 0):
            route.hold("the notification was disabled in Kuma")
        if notification.get("isDefault"):
            draft.report.approximated(
                where, "'default enabled' (for new monitors) has no meaning here"
            )
        routes[str(notification.get("id"))] = route
    return routes


def _route_name(notification: dict[str, Any], taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", str(notification.get("name") or "route")).strip("-._")
    base = (base or "route")[:60]
    name, number = base, 2
    while name in taken:
        name, number = f"{base}-{number}", number + 1
    taken.add(name)
    return name


def _route(n: dict[str, Any], where: str, name: str, report: ImportReport) -> RouteDraft:
    kind = str(n.get("type", ""))
    route = RouteDraft(name=name, type="apprise", source=where)
    url: str | None = None
    if kind == "telegram":
        route.type = "telegram"
        route.settings = {
            "bot_token": literal(str(n.get("telegramBotToken") or "")),
            "chat_id": str(n.get("telegramChatID") or ""),
        }
        if n.get("telegramMessageThreadID"):
            route.settings["topic"] = int(n["telegramMessageThreadID"])
        if n.get("telegramServerUrl"):
            route.settings["api_url"] = literal(str(n["telegramServerUrl"]))
        for key in ("telegramSendSilently", "telegramProtectContent", "telegramUseTemplate"):
            if n.get(key):
                report.dropped(where, f"{key} (NyxMon's telegram route has no such option)")
                route.notes.append(f"not carried over: {key}")
    elif kind == "webhook":
        route.type = "webhook"
        route.settings = {"url": literal(str(n.get("webhookURL") or ""))}
        extra = n.get("webhookAdditionalHeaders")
        if extra:
            try:
                route.settings["headers"] = {
                    str(k): literal(str(v)) for k, v in json.loads(extra).items()
                }
            except (ValueError, AttributeError):
                report.dropped(where, "additional headers are not a JSON object")
                route.notes.append("not carried over: additional headers (not a JSON object)")
        route.notes.append("approximated: NyxMon POSTs its own JSON document, not Kuma's")
        report.approximated(where, "webhook body is NyxMon's JSON document, not Kuma's")
    elif kind == "discord":
        url = n.get("discordWebhookUrl")
    elif kind == "slack":
        url = n.get("slackwebhookURL")
    elif kind == "mattermost":
        url = n.get("mattermostWebhookUrl")
    elif kind == "teams":
        url = n.get("webhookUrl")
    elif kind == "GoogleChat":
        url = n.get("googleChatWebhookURL")
    elif kind == "apprise":
        url = n.get("appriseURL")
    elif kind == "ntfy":
        url = ntfy_url(
            str(n.get("ntfyserverurl") or "https://ntfy.sh"),
            str(n.get("ntfytopic") or ""),
            priority=n.get("ntfyPriority"),
            token=n.get("ntfyaccesstoken"),
            user=n.get("ntfyusername"),
            password=n.get("ntfypassword"),
        )
    elif kind == "gotify":
        url = gotify_url(
            str(n.get("gotifyserverurl") or ""),
            str(n.get("gotifyapplicationToken") or ""),
            priority=n.get("gotifyPriority"),
        )
    elif kind == "pushover":
        url = pushover_url(
            str(n.get("pushoveruserkey") or ""),
            str(n.get("pushoverapptoken") or ""),
            priority=n.get("pushoverpriority"),
            device=n.get("pushoverdevice"),
            sound=n.get("pushoversounds"),
        )
    elif kind == "smtp":
        url = email_url(
            str(n.get("smtpHost") or ""),
            n.get("smtpPort"),
            secure=bool(n.get("smtpSecure")) or n.get("smtpPort") in (465, 587),
            user=n.get("smtpUsername"),
            password=n.get("smtpPassword"),
            sender=n.get("smtpFrom"),
            to=[t.strip() for t in str(n.get("smtpTo") or "").split(",") if t.strip()],
        )
    elif kind == "matrix":
        url = matrix_url(
            str(n.get("homeserverUrl") or ""),
            str(n.get("accessToken") or ""),
            str(n.get("internalRoomId") or ""),
        )
    elif kind == "signal":
        recipients = [
            r.strip() for r in str(n.get("signalRecipients") or "").split(",") if r.strip()
        ]
        url = signal_url(
            str(n.get("signalURL") or ""), str(n.get("signalNumber") or ""), recipients
        )
    elif kind == "pushbullet":
        url = f"pbul://{n.get('pushbulletAccessToken') or ''}"
    elif kind == "line":
        url = f"line://{n.get('lineChannelAccessToken') or ''}/{n.get('lineUserID') or ''}"
    elif kind == "Opsgenie":
        region = "?region=eu" if n.get("opsgenieRegion") == "eu" else ""
        url = f"opsgenie://{n.get('opsgenieApiKey') or ''}{region}"
    elif kind == "HomeAssistant":
        server = str(n.get("homeAssistantUrl") or "")
        secure = server.startswith("https")
        host = server.split("://", 1)[-1].rstrip("/")
        url = f"{'hassios' if secure else 'hassio'}://{host}/{n.get('longLivedAccessToken') or ''}"
    else:
        route.hold(f"Kuma's {kind} notifications have no NyxMon or Apprise mapping known here")
        return route
    if url is not None:
        text = literal(str(url))
        route.settings = {"urls": [text]}
        problem = url_problem(str(url))
        if problem is not None:
            route.hold(f"Apprise cannot use the URL built from Kuma's {kind} settings: {problem}")
    return route
