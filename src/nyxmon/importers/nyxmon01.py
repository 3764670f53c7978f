"""The original NyxMon's (0.1) Django SQLite database to NyxMon's config.

The original kept its setup in two tables: ``service`` (``id``, ``name``) and ``health_check``
(``service_id``, ``name``, ``check_type``, ``url``, ``check_interval`` in seconds,
``disabled``, and ``data``, a JSON object of type settings; older databases lack ``name``,
``disabled`` and ``data``, which is why columns are looked up, not assumed). Its notifier was
Telegram, configured by ``$TELEGRAM_BOT_TOKEN`` and ``$TELEGRAM_CHAT_ID`` (MarkdownV2, every
check), which becomes a native ``telegram`` route reading the same two variables.

Check types, each live with the real type's parameters: ``http`` -> ``http`` (its in-run
retries are http's ``retries``), ``json-http`` -> ``json``, ``dns`` -> ``dns``, ``json-metrics``
-> ``json`` (a critical metric is a condition, a warning one a degraded condition), ``tcp`` ->
``tcp`` (implicit TLS, STARTTLS for smtp/imap, certificate days as a condition), ``ping`` ->
``icmp``, ``smtp`` -> ``smtp`` and ``imap`` -> ``imap`` (server, TLS and login; the test message
the original sent through smtp and looked for over imap is a round trip NyxMon does not make,
reported as dropped). The database is opened read-only; results (history) are not imported.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from nyxmon.importers.common import SourceError, fit_timing
from nyxmon.importers.draft import CheckDraft, ImportDraft, RouteDraft, literal
from nyxmon.importers.report import ImportReport

__all__ = ["TELEGRAM_ENV", "import_nyxmon01"]

#: The environment variables the original's Telegram notifier read.
TELEGRAM_ENV = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_CHAT_ID")
_OPERATORS = {"<", "<=", ">", ">=", "==", "!="}


def _rows(db: sqlite3.Connection, table: str) -> list[dict[str, Any]]:
    columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
    if not columns:
        return []
    cursor = db.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY id")
    return [dict(zip(columns, row, strict=True)) for row in cursor]


def read_database(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Services, checks and the number of stored results; read-only, never changed."""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise SourceError(f"DB: cannot open {str(path)!r}: {exc}") from None
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not {"service", "health_check"} <= tables:
            raise SourceError(
                f"DB: {str(path)!r} is not an original NyxMon database: it has no "
                "service and health_check tables"
            )
        services, checks = _rows(db, "service"), _rows(db, "health_check")
        results = 0
        if "check_result" in tables:
            results = int(db.execute("SELECT COUNT(*) FROM check_result").fetchone()[0])
        return services, checks, results
    except sqlite3.DatabaseError as exc:
        raise SourceError(f"DB: {str(path)!r} is not a readable SQLite database: {exc}") from None
    finally:
        db.close()


def import_nyxmon01(path: Path, environ: Mapping[str, str] | None = None) -> ImportDraft:
    """The draft for the original NyxMon's database at ``path``."""
    env = os.environ if environ is None else environ
    services, checks, results = read_database(path)
    draft = ImportDraft(report=ImportReport(source=f"NyxMon 0.1 database {path.name}"))
    threshold = _consecutive_failures(env, draft)
    draft.defaults = {
        "alert": {
            "failure_threshold": threshold,
            "success_threshold": 1,
            "retries": 0,
            "send_on_resolved": True,
        }
    }
    if results:
        draft.report.dropped("check_result", f"{results} stored results (history) are not imported")
        draft.header.append(f"not carried over: {results} stored results (history)")
    names = {row["id"]: literal(str(row.get("name") or f"service {row['id']}")) for row in services}
    for row in services:
        draft.service(names[row["id"]]).source = f'service {row["id"]} "{row.get("name")}"'
    for row in checks:
        service = names.get(row.get("service_id"), "Unassigned")
        try:
            check = _check(row, draft.report)
        except (ValueError, TypeError, AttributeError) as exc:
            raise SourceError(f"DB: health_check {row.get('id')}: {exc}") from None
        fit_timing(check, draft.report, check.interval or 300.0)
        draft.service(service).checks.append(check)
    draft.routes.append(_telegram(env, draft))
    return draft


def _consecutive_failures(env: Mapping[str, str], draft: ImportDraft) -> int:
    raw = env.get("NYXMON_NOTIFY_CONSECUTIVE_FAILURES", "").strip()
    if raw.isdigit() and int(raw) >= 1:
        draft.report.mapped("NYXMON_NOTIFY_CONSECUTIVE_FAILURES", "failure threshold")
        return int(raw)
    return 1


def _telegram(env: Mapping[str, str], draft: ImportDraft) -> RouteDraft:
    route = RouteDraft(
        name="telegram",
        type="telegram",
        settings={
            "bot_token": "${TELEGRAM_BOT_TOKEN}",
            "chat_id": "${TELEGRAM_CHAT_ID}",
            "parse_mode": "MarkdownV2",
        },
        match_all=True,
        source="Telegram notifier ($TELEGRAM_BOT_TOKEN, $TELEGRAM_CHAT_ID)",
    )
    route.notes.append(
        "the original's Telegram notifier: the same environment variables, MarkdownV2, every check"
    )
    route.notes.append(
        "approximated: the original sent a message for every failing result; NyxMon sends "
        "one when a check goes DOWN and one when it recovers"
    )
    draft.report.approximated(route.source, "a message per state change, not per failing result")
    missing = [name for name in TELEGRAM_ENV if not env.get(name)]
    if missing:
        route.hold(f"set {' and '.join(missing)} (as for the original), then uncomment")
    if env.get("OPSGATE_SUBMIT_BASE_URL"):
        draft.report.dropped("OPSGATE_SUBMIT_BASE_URL", "OpsGate tickets have no NyxMon route")
        route.notes.append("not carried over: OpsGate ticket submission")
    return route


def _data(row: dict[str, Any], report: ImportReport, where: str) -> dict[str, Any]:
    raw = row.get("data")
    if raw in (None, ""):
        return {}
    try:
        data = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        report.dropped(where, "its data column is not JSON")
        return {}
    return data if isinstance(data, dict) else {}


def _check(row: dict[str, Any], report: ImportReport) -> CheckDraft:
    kind = str(row.get("check_type") or "http")
    name = literal(str(row.get("name") or f"{kind} check {row['id']}"))
    where = f'health_check {row["id"]} "{row.get("name") or ""}"'
    check = CheckDraft(name=name, type=kind, source=where)
    check.interval = float(row.get("check_interval") or 300)
    if row.get("disabled"):
        check.enabled = False
    data = _data(row, report, where)
    url = literal(str(row.get("url") or ""))
    if "timeout" in data and kind != "ping":
        check.timeout = float(data["timeout"])
    if kind in ("http", "json-http"):
        check.type = "http" if kind == "http" else "json"
        _http(check, url, data, report)
    elif kind == "dns":
        check.params = {"query_name": url, "record_type": str(data.get("query_type", "A"))}
        if data.get("dns_server"):
            check.params["server"] = data["dns_server"]
        if data.get("source_ip"):
            check.params["source_address"] = data["source_ip"]
        if data.get("expected_ips"):
            check.params["expected"] = list(data["expected_ips"])
    elif kind == "json-metrics":
        _metrics(check, url, data, report)
    elif kind == "tcp":
        _tcp(check, url, data, report)
    elif kind == "ping":
        _ping(check, url, data, report)
    elif kind == "smtp":
        _smtp(check, url, data, report)
    elif kind == "imap":
        _imap(check, url, data, report)
    else:
        check.params = {"url": url}
        check.hold(f"the original's {kind!r} checks have no NyxMon type")
    check.params = {k: v for k, v in check.params.items() if v is not None}
    return check


def _retries(check: CheckDraft, data: dict[str, Any], report: ImportReport) -> None:
    retries = int(data.get("retries") or 0)
    if retries:
        check.alert["retries"] = retries
        check.alert["retry_interval"] = float(data.get("retry_delay") or 2.0) or 1.0
        report.approximated(check.source, "in-run retries became NyxMon retries of failed runs")
        check.notes.append(
            "approximated: the original retried inside one run; NyxMon re-runs a failed check "
            "after retry_interval"
        )


def _http(check: CheckDraft, url: str, data: dict[str, Any], report: ImportReport) -> None:
    check.params = {"url": url}
    if data.get("follow_redirects") is False:
        check.params["follow_redirects"] = False
    if data.get("expected_status") is not None:
        check.params["expected_status"] = [int(data["expected_status"])]
    if data.get("expected_location"):
        check.conditions.append(f"[HEADERS].location == {literal(str(data['expected_location']))}")
    _http_retries(check, data, report)


def _http_retries(check: CheckDraft, data: dict[str, Any], report: ImportReport) -> None:
    """The original's in-run retries are the http type's own ``retries`` (one result with its
    attempts); its fixed ``retry_delay`` becomes the first wait, which NyxMon then doubles."""
    retries = int(data.get("retries") or 0)
    if not retries:
        return
    check.params["retries"] = min(retries, 10)
    if retries > 10:
        report.approximated(check.source, f"{retries} in-run retries capped at 10")
        check.notes.append(f"approximated: {retries} in-run retries capped at NyxMon's 10")
    codes = data.get("retry_status_codes")
    if codes and sorted(codes) != [502, 503, 504]:
        check.params["retry_status_codes"] = [int(code) for code in codes]
    delay = float(data.get("retry_delay") or 0)
    if delay > 0:
        check.params["retry_backoff"] = delay
        if retries > 1:
            report.approximated(check.source, "retry_delay is the first wait, doubled after")
            check.notes.append(
                f"approximated: the original waited {delay:g}s before every retry; NyxMon "
                "waits that long before the first and doubles it before each next one"
            )


def _metrics(check: CheckDraft, url: str, data: dict[str, Any], report: ImportReport) -> None:
    check.type = "json"
    check.params = {"url": literal(str(data.get("url") or url))}
    auth = data.get("auth")
    if isinstance(auth, dict) and auth.get("username"):
        check.params["basic_auth"] = {
            "username": literal(str(auth["username"])),
            "password": literal(str(auth.get("password") or "")),
        }
    degraded: list[str] = []
    for metric in data.get("checks") or []:
        path = str(metric.get("path", "")).replace("$.", "", 1).lstrip("$")
        op = str(metric.get("op", "=="))
        if not path or op not in _OPERATORS:
            report.dropped(check.source, f"metric {metric!r}: not a path and operator")
            continue
        value = metric.get("value")
        shown = json.dumps(value) if isinstance(value, bool) or value is None else str(value)
        condition = literal(f"[BODY].{path} {op} {shown}")
        if metric.get("severity") == "warning":
            degraded.append(condition)
        else:
            check.conditions.append(condition)
    if degraded:
        # A warning metric made the original warn, not fail: json's degraded rules do that.
        check.params["degraded_conditions"] = degraded
    _http_retries(check, data, report)


def _host(url: str, data: dict[str, Any]) -> str:
    """The original's target: ``data.host`` when set, else the url's host (or the url)."""
    if data.get("host"):
        return literal(str(data["host"]))
    return literal(urlsplit(url if "://" in url else f"//{url}").hostname or url)


def _login(check: CheckDraft, data: dict[str, Any], report: ImportReport) -> None:
    """Username and password of a mail check; a ``password_secret`` reference is not kept."""
    if data.get("username"):
        check.params["username"] = literal(str(data["username"]))
        if data.get("password"):
            check.params["password"] = literal(str(data["password"]))
    if data.get("password_secret") and not data.get("password"):
        report.dropped(check.source, "password_secret (a secret reference NyxMon cannot read)")
        check.hold("the password was a secret reference: write it in password, then uncomment")
    if data.get("verify") is False:
        check.params["verify_tls"] = False


def _tcp(check: CheckDraft, url: str, data: dict[str, Any], report: ImportReport) -> None:
    """``tcp``: connect, implicit TLS or STARTTLS (smtp, imap), certificate days as a condition."""
    check.params = {"host": _host(url, data), "port": data.get("port")}
    mode = str(data.get("tls_mode") or "none")
    if mode == "implicit":
        check.params["tls"] = True
    elif mode == "starttls":
        protocol = str(data.get("starttls_protocol") or "generic")
        if protocol in ("smtp", "imap"):
            check.params["starttls"] = protocol
        else:
            check.hold(
                f"STARTTLS of the {protocol!r} kind (a raw command) has no NyxMon equivalent; "
                "tcp's starttls speaks smtp, imap, pop3, ftp and postgres"
            )
    if mode != "none":
        if data.get("sni"):
            check.params["server_name"] = literal(str(data["sni"]))
        if data.get("verify") is False:
            check.params["verify_tls"] = False
        if data.get("check_cert_expiry"):
            days = int(data.get("min_cert_days", 14))
            check.conditions.append(f"[CERTIFICATE_EXPIRATION] > {days}d")
    _retries(check, data, report)


def _ping(check: CheckDraft, url: str, data: dict[str, Any], report: ImportReport) -> None:
    """``ping`` -> ``icmp``: the original's per-request timeout is icmp's ``reply_wait``."""
    check.type = "icmp"
    check.params = {"host": _host(url, data)}
    if "count" in data:
        check.params["count"] = int(data["count"])
    if "interval" in data:
        check.params["packet_interval"] = float(data["interval"])
    if "timeout" in data:
        check.params["reply_wait"] = float(data["timeout"])


def _smtp(check: CheckDraft, url: str, data: dict[str, Any], report: ImportReport) -> None:
    """``smtp``: the same server, TLS and login; the original's test message is not sent."""
    check.params = {
        "host": _host(url, data),
        "port": int(data.get("port") or 587),
        "tls": str(data.get("tls") or "starttls"),
    }
    _login(check, data, report)
    if data.get("from_addr") or data.get("to_addr"):
        what = (
            f"sending a test message from {data.get('from_addr')} to {data.get('to_addr')}: "
            "NyxMon's smtp check logs in and sends nothing"
        )
        report.dropped(check.source, what)
        check.notes.append(f"not carried over: {what}")
    _retries(check, data, report)


def _imap(check: CheckDraft, url: str, data: dict[str, Any], report: ImportReport) -> None:
    """``imap``: the same server, TLS and login; the search for the smtp check's message is
    a round trip NyxMon does not make."""
    check.params = {
        "host": _host(url, data),
        "port": int(data.get("port") or 993),
        "tls": str(data.get("tls_mode") or "implicit"),
    }
    _login(check, data, report)
    if data.get("search_subject"):
        what = (
            f"the round trip (a message with subject {data['search_subject']!r} found in "
            f"{data.get('folder') or 'INBOX'}, then deleted): NyxMon's imap check logs in "
            "and reads nothing"
        )
        report.dropped(check.source, what)
        check.notes.append(f"not carried over: {what}")
    _retries(check, data, report)
