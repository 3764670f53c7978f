"""Gatus's YAML config to NyxMon's: endpoints, groups, conditions, intervals, alerts, windows.

The mapping, item by item:

- ``endpoints[]`` become checks; ``group`` becomes the service (ungrouped endpoints go to the
  service ``Endpoints``); the URL scheme picks the type: ``http(s)`` -> ``http`` (``json``
  when a condition reads ``[BODY].path``, ``len()`` or ``has()``), ``dns`` block -> ``dns``,
  ``tcp``/``udp``/``icmp``/``ssh`` -> the type of that name, ``tls`` -> ``tls`` (``tcp`` with
  ``tls: true`` when a body is sent), ``starttls`` -> ``smtp``, ``ws(s)`` -> ``websocket``,
  ``grpc(s)`` -> ``grpc`` (``[BODY].status`` read as ``[VALUE]``); ``sctp`` has no NyxMon
  type. An ssh login and command are reported as dropped: NyxMon's ssh check reads the banner.
- ``conditions`` are kept word for word (NyxMon speaks Gatus's condition language); a DNS
  ``[BODY] == value`` becomes ``expected``; what NyxMon cannot read or the type never observes
  is written as a comment with the reason.
- ``interval``, ``client.timeout``, ``client.insecure``, ``client.ignore-redirect``,
  ``method``, ``headers``, ``body`` (and ``graphql``), ``enabled``, ``extra-labels``.
- ``alerting.<provider>`` become routes (Telegram natively, ``custom`` as a webhook, the rest
  as Apprise URLs); an endpoint's ``alerts[]`` put it on those routes and set its thresholds.
- ``maintenance`` and ``maintenance-windows`` become weekly maintenance windows.
- ``external-endpoints`` become ``push`` checks.

``${VAR}`` references stay as they are (Gatus and NyxMon spell them alike); ``$VAR`` becomes
``${VAR}``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

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
from nyxmon.importers.common import SourceError, fit_timing, go_duration, host_port
from nyxmon.importers.draft import CheckDraft, ImportDraft, MaintenanceDraft, RouteDraft
from nyxmon.importers.report import ImportReport

__all__ = ["UNGROUPED", "import_gatus"]

UNGROUPED = "Endpoints"
UNGROUPED_EXTERNAL = "External endpoints"
_BARE_VAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_JSON_CONDITION = re.compile(r"\[BODY\][.\[]|len\(\[BODY\]|has\(\[BODY\]", re.IGNORECASE)
#: Types with a ``verify_tls`` parameter (``client.insecure`` turns it off).
_VERIFIES_TLS = {"http", "json", "tcp", "tls", "smtp", "websocket"}
_DNS_BODY = re.compile(r"^\s*\[BODY\]\s*==\s*([^()\s]+)\s*$", re.IGNORECASE)
#: Gatus's alert defaults (README, "Alerting"), which NyxMon's defaults.alert reproduces.
_GATUS_ALERT = {"failure-threshold": 3, "success-threshold": 2, "send-on-resolved": False}
_DROPPED_TOP = {
    "metrics": "NyxMon always serves /metrics",
    "storage": "NyxMon keeps results in its own database (agent.database)",
    "security": "NyxMon has its own users and API tokens",
    "web": "NyxMon's web plane is set under web:",
    "ui": "dashboard look and feel has no NyxMon setting",
    "announcements": "NyxMon has no announcements",
    "concurrency": "NyxMon's agent.concurrency means probes in flight, not endpoints",
    "disable-monitoring-lock": "NyxMon runs checks concurrently anyway",
    "skip-invalid-config-update": "NyxMon always keeps the running config when a reload fails",
    "connectivity": "NyxMon has no connectivity checker",
    "remote": "NyxMon does not read remote Gatus instances",
    "suites": "NyxMon has no multi-step suites",
    "tunneling": "NyxMon has no SSH tunnels",
}
_DAYS = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}


def _env(value: Any) -> Any:
    """Gatus's ``$VAR`` as NyxMon's ``${VAR}``, in every string of ``value``."""
    if isinstance(value, str):
        return _BARE_VAR.sub(r"${\1}", value)
    if isinstance(value, dict):
        return {k: _env(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_env(v) for v in value]
    return value


def read_gatus(path: Path) -> dict[str, Any]:
    """The parsed file; :class:`SourceError` names the line of a YAML mistake."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"FILE: cannot read {str(path)!r}: {exc.strerror}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SourceError(f"{path}{line}: not valid YAML: {problem}") from None
    if not isinstance(document, dict) or not (
        "endpoints" in document or "external-endpoints" in document
    ):
        raise SourceError(
            f"{path}: not a Gatus config: expected a mapping with endpoints: or external-endpoints:"
        )
    result: dict[str, Any] = _env(document)
    return result


def import_gatus(path: Path) -> ImportDraft:
    """The draft for the Gatus config at ``path``."""
    config = read_gatus(path)
    draft = ImportDraft(report=ImportReport(source=f"Gatus config {path.name}"))
    draft.defaults = {
        "interval": 60.0,
        "alert": {
            "failure_threshold": 3,
            "success_threshold": 2,
            "retries": 0,
            "send_on_resolved": False,
        },
    }
    draft.header.append(
        "defaults.alert reproduces Gatus's alert defaults (3 failures, 2 successes, no "
        "retries, no resolved notice unless asked)."
    )
    for key in config:
        if key in _DROPPED_TOP:
            draft.report.dropped(key, _DROPPED_TOP[key])
            draft.header.append(f"not carried over: {key}: {_DROPPED_TOP[key]}")
        elif key not in ("endpoints", "external-endpoints", "alerting", "maintenance"):
            draft.report.dropped(key, "not a Gatus setting NyxMon knows")
            draft.header.append(f"not carried over: {key}: not a Gatus setting NyxMon knows")
    alerting = config.get("alerting") or {}
    routes = _routes(alerting, draft)
    defaults = {
        name: dict(spec["default-alert"])
        for name, spec in alerting.items()
        if isinstance(spec, dict) and isinstance(spec.get("default-alert"), dict)
    }
    for key, build in (("endpoints", _endpoint), ("external-endpoints", _external)):
        for index, endpoint in enumerate(config.get(key) or []):
            where = f"{path}: {key}[{index}]"
            if not isinstance(endpoint, dict):
                raise SourceError(f"{where}: expected a mapping with name and url")
            try:
                build(endpoint, index, draft, routes, defaults)
            except (ValueError, TypeError, AttributeError) as exc:
                name = endpoint.get("name", "")
                raise SourceError(f"{where} {str(name)!r}: {exc}") from None
    draft.routes = [route for route in routes.values() if route.checks]
    for name, route in routes.items():
        if not route.checks:
            why = route.held or f"no endpoint alerts through {name}"
            draft.report.dropped(route.source, f"route left out: {why}")
    if isinstance(config.get("maintenance"), dict):
        try:
            _global_maintenance(config["maintenance"], draft)
        except (ValueError, TypeError) as exc:
            raise SourceError(f"{path}: maintenance: {exc}") from None
    return draft


# --- alerting providers -----------------------------------------------------------------


def _provider_route(name: str, spec: dict[str, Any], where: str) -> RouteDraft:
    """The route for ``alerting.<name>``; held (with why) when NyxMon cannot reach it."""
    route = RouteDraft(name=name, type="apprise", source=where)
    url: str | None = None
    if name == "telegram":
        route.type = "telegram"
        route.settings = {"bot_token": spec.get("token", ""), "chat_id": str(spec.get("id", ""))}
        if spec.get("topic-id"):
            route.settings["topic"] = int(spec["topic-id"])
        if spec.get("api-url"):
            route.settings["api_url"] = spec["api-url"]
    elif name == "custom":
        route.type = "webhook"
        route.settings = {"url": spec.get("url", "")}
        if spec.get("headers"):
            route.settings["headers"] = dict(spec["headers"])
        route.notes.append(
            "approximated: NyxMon POSTs its own JSON document (see README, Alerting); Gatus's "
            "custom method, body and placeholders are not used"
        )
    elif name in ("slack", "discord", "googlechat", "mattermost", "teams-workflows"):
        url = spec.get("webhook-url", "")
    elif name == "ntfy":
        url = ntfy_url(
            spec.get("url", "https://ntfy.sh"),
            spec.get("topic", ""),
            priority=spec.get("priority"),
            token=spec.get("token"),
        )
    elif name == "gotify":
        url = gotify_url(
            spec.get("server-url", ""), spec.get("token", ""), priority=spec.get("priority")
        )
    elif name == "pushover":
        url = pushover_url(
            spec.get("user-key", ""),
            spec.get("application-token", ""),
            priority=spec.get("priority"),
            device=spec.get("device"),
            sound=spec.get("sound"),
        )
    elif name == "email":
        to = [t.strip() for t in str(spec.get("to", "")).split(",") if t.strip()]
        url = email_url(
            spec.get("host", ""),
            spec.get("port"),
            secure=spec.get("port") != 25,
            user=spec.get("username") or spec.get("from"),
            password=spec.get("password"),
            sender=spec.get("from"),
            to=to,
        )
    elif name == "matrix":
        url = matrix_url(
            spec.get("server-url", "https://matrix-client.matrix.org"),
            spec.get("access-token", ""),
            spec.get("internal-room-id", ""),
        )
    elif name == "opsgenie":
        url = f"opsgenie://{spec.get('api-key', '')}"
    elif name == "homeassistant":
        secure = str(spec.get("url", "")).startswith("https")
        host = str(spec.get("url", "")).split("://", 1)[-1].rstrip("/")
        url = f"{'hassios' if secure else 'hassio'}://{host}/{spec.get('token', '')}"
    elif name == "signal":
        url = signal_url(
            spec.get("api-url", ""), str(spec.get("number", "")), spec.get("recipients", [])
        )
    elif name == "ifttt":
        url = f"ifttt://{spec.get('webhook-key', '')}/{spec.get('event-name', '')}"
    elif name == "line":
        users = "/".join(spec.get("user-ids", []))
        url = f"line://{spec.get('channel-access-token', '')}/{users}"
    else:
        route.hold(f"Gatus's {name} provider has no NyxMon or Apprise mapping known here")
        return route
    if url is not None:
        route.settings = {"urls": [url]}
        problem = url_problem(url)
        if problem is not None:
            route.hold(f"Apprise cannot use the URL built from alerting.{name}: {problem}")
    return route


def _routes(alerting: dict[str, Any], draft: ImportDraft) -> dict[str, RouteDraft]:
    routes: dict[str, RouteDraft] = {}
    for name, spec in alerting.items():
        where = f"alerting.{name}"
        if not isinstance(spec, dict):
            draft.report.dropped(where, "not a provider configuration")
            continue
        route = _provider_route(name, spec, where)
        if name == "custom":
            draft.report.approximated(where, "a NyxMon webhook (its own JSON body, by POST)")
        route.notes.insert(0, f"from Gatus {where}")
        for key in ("overrides", "client"):
            if spec.get(key):
                why = {
                    "overrides": "per-group provider overrides have no NyxMon route equivalent",
                    "client": "provider client settings are not used by NyxMon",
                }[key]
                draft.report.dropped(f"{where}.{key}", why)
                route.notes.append(f"not carried over: {key}: {why}")
        routes[name] = route
    return routes


# --- endpoints ---------------------------------------------------------------------------


def _endpoint(
    endpoint: dict[str, Any],
    index: int,
    draft: ImportDraft,
    routes: dict[str, RouteDraft],
    defaults: dict[str, dict[str, Any]],
) -> None:
    name = str(endpoint.get("name") or f"endpoint {index + 1}")
    where = f'endpoints[{index}] "{name}"'
    report = draft.report
    check = CheckDraft(name=name, type="http", source=where)
    url = str(endpoint.get("url", ""))
    conditions = [str(c) for c in endpoint.get("conditions") or []]
    _type_and_params(check, endpoint, url, conditions, report)
    check.conditions.extend(conditions)
    if "interval" in endpoint:
        check.interval = go_duration(endpoint["interval"], "interval")
    if endpoint.get("enabled") is False:
        check.enabled = False
    if endpoint.get("extra-labels"):
        check.labels = {str(k): str(v) for k, v in endpoint["extra-labels"].items()}
    _client(check, endpoint.get("client") or {}, report)
    for key in endpoint.get("ui") or {}:
        report.dropped(f"{where}.ui.{key}", "display setting with no NyxMon equivalent")
        check.notes.append(f"not carried over: ui.{key} (display only)")
    for key in ("always-run", "store"):
        if key in endpoint:
            report.dropped(f"{where}.{key}", "suite setting; NyxMon has no suites")
    _alerts(check, endpoint.get("alerts") or [], routes, defaults, draft)
    for w_index, window in enumerate(endpoint.get("maintenance-windows") or []):
        _window(
            window,
            f"{where}.maintenance-windows[{w_index}]",
            f"{name} window {w_index + 1}",
            draft,
            check,
        )
    fit_timing(check, report, 60.0)
    group = str(endpoint.get("group") or UNGROUPED)
    draft.service(group).checks.append(check)


def _type_and_params(
    check: CheckDraft,
    endpoint: dict[str, Any],
    url: str,
    conditions: list[str],
    report: Any,
) -> None:
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    body = endpoint.get("body")
    where = check.source
    if "dns" in endpoint:
        dns = endpoint["dns"] or {}
        check.type = "dns"
        host, port = host_port(url, 53)
        check.params = {
            "query_name": dns.get("query-name", ""),
            "record_type": str(dns.get("query-type", "A")).upper(),
            "server": host,
        }
        if port != 53:
            check.params["port"] = port
        expected = []
        for condition in list(conditions):
            match = _DNS_BODY.match(condition)
            if match:
                expected.append(match.group(1))
                conditions.remove(condition)
        if expected:
            check.params["expected"] = expected
            report.approximated(where, f"[BODY] == ... became expected: {expected}")
            check.notes.append(
                "approximated: Gatus's [BODY] == value became expected (an answer must match)"
            )
        return
    if scheme in ("http", "https"):
        check.type = "json" if any(_JSON_CONDITION.search(c) for c in conditions) else "http"
        check.params = {"url": url}
        method = str(endpoint.get("method", "GET")).upper()
        if method != "GET":
            check.params["method"] = method
        if endpoint.get("headers"):
            check.params["headers"] = {str(k): str(v) for k, v in endpoint["headers"].items()}
        if body:
            if endpoint.get("graphql"):
                check.params["json_body"] = {"query": str(body)}
            else:
                check.params["body"] = _body(str(body), endpoint, check, report)
        return
    host, port = host_port(url, None)
    mapping: dict[str, tuple[str, dict[str, Any]]] = {
        "tcp": ("tcp", {"host": host, "port": port}),
        "udp": ("udp", {"host": host, "port": port}),
        "icmp": ("icmp", {"host": host}),
        "tls": ("tls", {"host": host, "port": port or 443}),
        "starttls": ("smtp", {"host": host, "port": port or 587, "tls": "starttls"}),
        "ssh": ("ssh", {"host": host, "port": port or 22}),
        "ws": ("websocket", {"url": url}),
        "wss": ("websocket", {"url": url}),
        "grpc": ("grpc", {"host": host, "port": port, "tls": False}),
        "grpcs": ("grpc", {"host": host, "port": port or 443, "tls": True}),
    }
    if scheme not in mapping:
        check.type = scheme or "unknown"
        check.params = {"url": url}
        check.hold(
            f"Gatus's {scheme or 'scheme-less'} endpoints have no NyxMon check type"
            if scheme
            else "the url has no scheme NyxMon knows"
        )
        return
    check.type, check.params = mapping[scheme]
    check.params = {k: v for k, v in check.params.items() if v is not None}
    if scheme == "starttls":
        report.approximated(where, "starttls:// became an smtp check with STARTTLS")
        check.notes.append("approximated: Gatus's starttls:// endpoint became an smtp check")
    elif scheme == "ssh":
        _ssh(check, endpoint, report)
    elif scheme == "tls" and body:
        # Gatus sends the body over the TLS connection and reads the answer: tcp with tls does.
        check.type = "tcp"
        check.params["tls"] = True
        check.params["send"] = _body(str(body), endpoint, check, report)
    elif scheme in ("grpc", "grpcs"):
        _grpc_conditions(check, conditions, report)
    elif scheme == "udp":
        _udp_conditions(check, conditions, report)
    if body and scheme in ("tcp", "udp", "ws", "wss"):
        key = "payload" if scheme == "udp" else "send"
        check.params[key] = _body(str(body), endpoint, check, report)


def _ssh(check: CheckDraft, endpoint: dict[str, Any], report: Any) -> None:
    """Gatus logs in and runs the body's command when given credentials; NyxMon's ssh check
    reads the banner only, so the login and the command are reported as dropped (a condition
    on the command's ``[STATUS]`` is then held as never observed)."""
    ssh = endpoint.get("ssh") or {}
    given = [key for key in ("username", "password", "private-key") if ssh.get(key)]
    command = _ssh_command(endpoint.get("body"))
    if given or command:
        what = "ssh login" + (f" and command {command!r}" if command else "")
        report.dropped(check.source, f"{what}: NyxMon's ssh check reads the banner only")
        check.notes.append(f"not carried over: {what} (NyxMon's ssh check reads the banner only)")


_GRPC_STATUS = re.compile(r"^\s*\[BODY\]\.status\s*(==|!=)\s*(.+?)\s*$", re.IGNORECASE)


def _grpc_conditions(check: CheckDraft, conditions: list[str], report: Any) -> None:
    """Gatus's grpc ``[BODY]`` is ``{"status": ...}``; NyxMon's grpc check gives that status
    as ``[VALUE]``."""
    for index, condition in enumerate(conditions):
        match = _GRPC_STATUS.match(condition)
        if match:
            conditions[index] = f"[VALUE] {match.group(1)} {match.group(2)}"
            report.mapped(check.source, "[BODY].status as [VALUE] (the health status)")


def _udp_conditions(check: CheckDraft, conditions: list[str], report: Any) -> None:
    """Gatus's udp ``[CONNECTED]`` is true when a reply was read, which is what a NyxMon udp
    check passes on; that condition is carried by the check itself, not written."""
    for condition in list(conditions):
        if re.fullmatch(r"\s*\[CONNECTED\]\s*==\s*true\s*", condition, re.IGNORECASE):
            conditions.remove(condition)
            report.mapped(check.source, "[CONNECTED] == true as the udp check's reply")
            check.notes.append(
                "[CONNECTED] == true: a NyxMon udp check passes only when a reply arrives"
            )


def _ssh_command(body: Any) -> str | None:
    if not body:
        return None
    import json

    try:
        document = json.loads(str(body))
    except ValueError:
        return str(body)
    return str(document.get("command")) if isinstance(document, dict) else str(body)


def _body(body: str, endpoint: dict[str, Any], check: CheckDraft, report: Any) -> str:
    """Gatus's static body placeholders filled in; dynamic ones left, with a note."""
    filled = (
        body.replace("[ENDPOINT_NAME]", str(endpoint.get("name", "")))
        .replace("[ENDPOINT_GROUP]", str(endpoint.get("group", "")))
        .replace("[ENDPOINT_URL]", str(endpoint.get("url", "")))
    )
    if "[LOCAL_ADDRESS]" in filled or "[RANDOM_STRING_" in filled or "[CONTEXT]" in filled:
        report.approximated(check.source, "body placeholders sent literally")
        check.notes.append(
            "approximated: the body's [LOCAL_ADDRESS]/[RANDOM_STRING_N]/[CONTEXT] placeholders "
            "are sent as written"
        )
    return filled


def _client(check: CheckDraft, client: dict[str, Any], report: Any) -> None:
    where = check.source
    for key, value in client.items():
        if key == "timeout":
            check.timeout = go_duration(value, "client.timeout")
        elif key == "insecure":
            if value and check.type in _VERIFIES_TLS:
                check.params["verify_tls"] = False
            elif value:
                why = f"NyxMon's {check.type} checks have no certificate to skip verifying"
                report.dropped(f"{where}.client.insecure", why)
                check.notes.append(f"not carried over: client.insecure: {why}")
        elif key == "ignore-redirect":
            if value and check.type in ("http", "json"):
                check.params["follow_redirects"] = False
        else:
            why = {
                "dns-resolver": "NyxMon resolves with the system's resolver",
                "oauth2": "NyxMon has no OAuth2 client-credentials flow",
                "proxy-url": "NyxMon probes do not go through proxies",
                "identity-aware-proxy": "NyxMon has no Google IAP support",
                "tls": "client certificates (mTLS) are not supported",
                "network": "NyxMon picks the address family itself",
                "tunnel": "NyxMon has no SSH tunnels",
                "store-cookies": "NyxMon keeps no cookies between runs",
            }.get(key, "unknown client setting")
            report.dropped(f"{where}.client.{key}", why)
            check.notes.append(f"not carried over: client.{key}: {why}")


def _alerts(
    check: CheckDraft,
    alerts: list[dict[str, Any]],
    routes: dict[str, RouteDraft],
    defaults: dict[str, dict[str, Any]],
    draft: ImportDraft,
) -> None:
    report, where = draft.report, check.source
    live: list[dict[str, Any]] = []
    for a_index, alert in enumerate(alerts):
        kind = str(alert.get("type", ""))
        at = f"{where}.alerts[{a_index}]"
        route = routes.get(kind)
        if route is None:
            report.dropped(at, f"alerting.{kind} is not configured, so Gatus ignores this alert")
            check.notes.append(f"not carried over: alert {kind}: alerting.{kind} is not configured")
            continue
        merged = {**_GATUS_ALERT, **defaults.get(kind, {}), **alert}
        if merged.get("enabled") is False:
            report.mapped(at, "disabled alert (not routed)")
            continue
        live.append(merged)
        if check not in route.checks:
            route.checks.append(check)
        report.mapped(at, "alert (route membership)")
        if alert.get("description"):
            report.dropped(f"{at}.description", "NyxMon's messages have no per-check text")
            check.notes.append(f"not carried over: alert description {alert['description']!r}")
        if alert.get("provider-override"):
            report.dropped(f"{at}.provider-override", "per-alert provider settings")
            check.notes.append(f"not carried over: alerts[{a_index}].provider-override")
    if not live:
        return
    failures = sorted({int(a["failure-threshold"]) for a in live})
    successes = sorted({int(a["success-threshold"]) for a in live})
    resolved = {bool(a["send-on-resolved"]) for a in live}
    if failures[0] != 3:
        check.alert["failure_threshold"] = failures[0]
    if successes[0] != 2:
        check.alert["success_threshold"] = successes[0]
    if True in resolved:
        check.alert["send_on_resolved"] = True
    if len(failures) > 1 or len(successes) > 1 or len(resolved) > 1:
        report.approximated(where, "alerts with different thresholds share one policy")
        check.notes.append(
            "approximated: NyxMon has one alert policy per check; the lowest thresholds of its "
            "alerts apply to all its routes"
        )
    reminders = [
        go_duration(a["minimum-reminder-interval"], "minimum-reminder-interval")
        for a in live
        if a.get("minimum-reminder-interval")
    ]
    reminders = [r for r in reminders if r > 0]
    if reminders:
        check.alert["remind_every"] = spell_duration(min(reminders))


def _external(
    endpoint: dict[str, Any],
    index: int,
    draft: ImportDraft,
    routes: dict[str, RouteDraft],
    defaults: dict[str, dict[str, Any]],
) -> None:
    name = str(endpoint.get("name") or f"external endpoint {index + 1}")
    where = f'external-endpoints[{index}] "{name}"'
    check = CheckDraft(name=name, type="push", source=where)
    if endpoint.get("token"):
        check.params["token"] = endpoint["token"]
    heartbeat = (endpoint.get("heartbeat") or {}).get("interval")
    if heartbeat and go_duration(heartbeat, "heartbeat.interval") > 0:
        check.interval = go_duration(heartbeat, "heartbeat.interval")
    else:
        draft.report.approximated(where, "no heartbeat: NyxMon expects a push every hour")
        check.interval = 3600.0
        check.notes.append(
            "approximated: Gatus had no heartbeat interval; NyxMon expects a push every hour"
        )
    if endpoint.get("enabled") is False:
        check.enabled = False
    _alerts(check, endpoint.get("alerts") or [], routes, defaults, draft)
    group = str(endpoint.get("group") or UNGROUPED_EXTERNAL)
    draft.service(group).checks.append(check)


# --- maintenance --------------------------------------------------------------------------


def _schedule(
    window: dict[str, Any], where: str, draft: ImportDraft
) -> tuple[dict[str, Any], str | None]:
    start = str(window.get("start", "00:00"))
    hours, _, minutes = start.partition(":")
    begin = int(hours) * 60 + int(minutes or 0)
    length = go_duration(window.get("duration", "1h"), "duration") / 60
    approx = None
    if length > 24 * 60:
        approx = (
            f"a window of {spell_duration(length * 60)} is cut to 24h (NyxMon's weekly windows "
            "end within a day)"
        )
        length = 24 * 60
    end = (begin + int(length)) % (24 * 60)
    every = [_DAYS.get(str(day).lower(), str(day).lower()[:3]) for day in window.get("every") or []]
    schedule: dict[str, Any] = {
        "days": every or "mon-sun",
        "from": f"{begin // 60:02d}:{begin % 60:02d}",
        "to": f"{end // 60:02d}:{end % 60:02d}",
        "timezone": window.get("timezone", "UTC"),
    }
    return schedule, approx


def _window(
    window: dict[str, Any], where: str, name: str, draft: ImportDraft, check: CheckDraft
) -> None:
    schedule, approx = _schedule(window, where, draft)
    entry = MaintenanceDraft(name=name, schedule=schedule, checks=[check], source=where)
    if window.get("enabled") is False:
        draft.report.mapped(where, "disabled maintenance window (left out)")
        return
    if approx:
        draft.report.approximated(where, approx)
        entry.notes.append(f"approximated: {approx}")
    draft.maintenance.append(entry)


def _global_maintenance(window: dict[str, Any], draft: ImportDraft) -> None:
    if window.get("enabled") is False:
        draft.report.mapped("maintenance", "disabled maintenance window (left out)")
        return
    schedule, approx = _schedule(window, "maintenance", draft)
    entry = MaintenanceDraft(name="maintenance", schedule=schedule, all=True, source="maintenance")
    if approx:
        draft.report.approximated("maintenance", approx)
        entry.notes.append(f"approximated: {approx}")
    draft.maintenance.append(entry)
