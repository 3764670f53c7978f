"""``import nyxmon-0.1`` on a real SQLite file with the original's Django schema (its migrations
0001-0010: ``service``, ``health_check``, ``check_result``), every check type, item by item."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml

from nyxmon.config import load_config_text
from nyxmon.importers import Fate, SourceError, finish
from nyxmon.importers.nyxmon01 import import_nyxmon01
from tests.unit.importers.helpers import held, live_checks, live_routes

SCHEMA = """
CREATE TABLE django_migrations (id integer PRIMARY KEY AUTOINCREMENT, app varchar(255),
    name varchar(255), applied datetime);
CREATE TABLE service (id integer PRIMARY KEY AUTOINCREMENT, name varchar(255) NOT NULL);
CREATE TABLE health_check (id integer PRIMARY KEY AUTOINCREMENT,
    check_type varchar(20) NOT NULL, url varchar(512) NOT NULL, check_interval integer NOT NULL,
    service_id bigint NOT NULL REFERENCES service (id), next_check_time integer unsigned NOT NULL,
    processing_started_at integer unsigned NOT NULL, status varchar(10) NOT NULL,
    name varchar(255) NOT NULL, disabled bool NOT NULL, data text NOT NULL);
CREATE TABLE check_result (id integer PRIMARY KEY AUTOINCREMENT, status varchar(10) NOT NULL,
    created_at datetime NOT NULL, data text NOT NULL,
    health_check_id bigint NOT NULL REFERENCES health_check (id));
"""
SERVICES = ["Homepage", "API", "DNS", "Mail", "Network", "Metrics"]
# (service, name, type, url, interval, disabled, data)
CHECKS: list[tuple[str, str, str, str, int, int, dict[str, Any]]] = [
    ("Homepage", "front", "http", "https://example.com/", 60, 0, {}),
    ("Homepage", "blog", "http", "https://blog.example.com/", 300, 0, {"timeout": 5.0}),
    (
        "Homepage",
        "shop",
        "http",
        "https://shop.example.com/",
        60,
        0,
        {"retries": 2, "retry_delay": 3.0, "retry_status_codes": [502, 503, 504]},
    ),
    (
        "Homepage",
        "canonical",
        "http",
        "http://example.com/",
        3600,
        0,
        {
            "follow_redirects": False,
            "expected_status": 301,
            "expected_location": "https://example.com/",
        },
    ),
    ("Homepage", "legacy", "http", "https://old.example.com/", 86400, 1, {}),
    (
        "Homepage",
        "flaky",
        "http",
        "https://flaky.example.com/",
        30,
        0,
        {"retries": 1, "retry_status_codes": [500, 502]},
    ),
    ("API", "health", "json-http", "https://api.example.com/health", 60, 0, {}),
    ("API", "status", "json-http", "https://api.example.com/status", 300, 0, {"timeout": 3}),
    ("API", "v2", "json-http", "https://api.example.com/v2/health", 900, 0, {}),
    (
        "DNS",
        "apex A",
        "dns",
        "example.com",
        300,
        0,
        {"expected_ips": ["93.184.215.14"], "query_type": "A", "timeout": 5.0},
    ),
    (
        "DNS",
        "www AAAA",
        "dns",
        "www.example.com",
        300,
        0,
        {"expected_ips": ["2606:2800:21f:cb07:6820:80da:af6b:8b2c"], "query_type": "AAAA"},
    ),
    (
        "DNS",
        "split horizon",
        "dns",
        "intranet.example.com",
        300,
        0,
        {
            "expected_ips": ["10.0.0.5"],
            "dns_server": "10.0.0.53",
            "source_ip": "10.0.0.2",
            "query_type": "A",
        },
    ),
    (
        "DNS",
        "mx",
        "dns",
        "example.com",
        3600,
        0,
        {"expected_ips": ["mail.example.com."], "query_type": "MX", "dns_server": "1.1.1.1"},
    ),
    (
        "Mail",
        "smtp submission",
        "smtp",
        "mail.example.com",
        900,
        0,
        {
            "host": "mail.example.com",
            "port": 587,
            "tls": "starttls",
            "username": "monitor",
            "password": "smtppw",
            "from_addr": "monitor@example.com",
            "to_addr": "loop@example.com",
        },
    ),
    (
        "Mail",
        "imap loop",
        "imap",
        "mail.example.com",
        900,
        0,
        {
            "host": "mail.example.com",
            "username": "loop",
            "password": "imappw",
            "search_subject": "[nyxmon]",
            "retries": 2,
            "retry_delay": 10.0,
        },
    ),
    ("Network", "ssh", "tcp", "server1.example.com", 60, 0, {"port": 22}),
    (
        "Network",
        "ldaps",
        "tcp",
        "ldap.example.com",
        300,
        0,
        {"port": 636, "tls_mode": "implicit", "check_cert_expiry": True},
    ),
    ("Network", "router", "ping", "192.168.1.1", 60, 0, {}),
    ("Network", "gateway", "ping", "10.0.0.1", 30, 0, {}),
    (
        "Metrics",
        "disk",
        "json-metrics",
        "https://node.example.com/metrics",
        300,
        0,
        {
            "url": "https://node.example.com/metrics",
            "checks": [
                {"path": "$.disk.used_percent", "op": "<", "value": 90, "severity": "critical"},
                {"path": "$.disk.used_percent", "op": "<", "value": 80, "severity": "warning"},
            ],
            "auth": {"username": "metrics", "password": "metricspw"},
        },
    ),
    (
        "Metrics",
        "queue",
        "json-metrics",
        "https://queue.example.com/stats",
        60,
        0,
        {
            "url": "https://queue.example.com/stats",
            "checks": [
                {"path": "$.healthy", "op": "==", "value": True, "severity": "critical"},
                {"path": "$.workers[0].busy", "op": "<=", "value": 10, "severity": "critical"},
            ],
        },
    ),
]
TELEGRAM = {"TELEGRAM_BOT_TOKEN": "555555:AAOriginalNyxmonTokenValue_xyz", "TELEGRAM_CHAT_ID": "42"}


def build_database(path: Path) -> Path:
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    for index in range(1, 11):
        db.execute(
            "INSERT INTO django_migrations (app, name, applied) VALUES ('nyxboard', ?, '')",
            (f"{index:04d}",),
        )
    ids = {}
    for name in SERVICES:
        ids[name] = db.execute("INSERT INTO service (name) VALUES (?)", (name,)).lastrowid
    for service, name, kind, url, interval, disabled, data in CHECKS:
        db.execute(
            "INSERT INTO health_check (check_type, url, check_interval, service_id, "
            "next_check_time, processing_started_at, status, name, disabled, data) "
            "VALUES (?, ?, ?, ?, 0, 0, 'idle', ?, ?, ?)",
            (kind, url, interval, ids[service], name, disabled, json.dumps(data)),
        )
    for _ in range(25):
        db.execute(
            "INSERT INTO check_result (status, created_at, data, health_check_id) "
            "VALUES ('ok', '2025-10-01', '{}', 1)"
        )
    db.commit()
    db.close()
    return path


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return build_database(tmp_path / "db.sqlite3")


def imported(database: Path, env: dict[str, str]) -> tuple[str, Any]:
    draft = import_nyxmon01(database, environ=env)
    return finish(draft, "t", environ=env), draft.report


def test_services_and_checks_map_item_by_item(database: Path) -> None:
    text, _ = imported(database, TELEGRAM)
    loaded = load_config_text(text, environ=TELEGRAM)
    assert [s.name for s in loaded.services] == SERVICES
    checks = live_checks(text)
    assert checks["homepage.front"] == {
        "name": "front",
        "type": "http",
        "interval": "1m",
        "url": "https://example.com/",
    }
    assert checks["homepage.blog"]["timeout"] == "5s"
    assert checks["homepage.shop"] == {
        "name": "shop",
        "type": "http",
        "interval": "1m",
        "url": "https://shop.example.com/",
        "retries": 2,
        "retry_backoff": 3.0,
    }
    assert (
        checks["homepage.flaky"]["retries"],
        checks["homepage.flaky"]["retry_status_codes"],
    ) == (
        1,
        [500, 502],
    )
    assert checks["homepage.canonical"] == {
        "name": "canonical",
        "type": "http",
        "interval": "1h",
        "url": "http://example.com/",
        "follow_redirects": False,
        "expected_status": [301],
        "conditions": ["[HEADERS].location == https://example.com/"],
    }
    assert checks["homepage.legacy"]["enabled"] is False
    assert checks["homepage.legacy"]["interval"] == "1d"
    assert checks["api.health"] == {
        "name": "health",
        "type": "json",
        "interval": "1m",
        "url": "https://api.example.com/health",
    }
    assert checks["api.status"]["timeout"] == "3s"
    assert checks["dns.apex-a"] == {
        "name": "apex A",
        "type": "dns",
        "interval": "5m",
        "timeout": "5s",
        "query_name": "example.com",
        "record_type": "A",
        "expected": ["93.184.215.14"],
    }
    assert checks["dns.split-horizon"]["server"] == "10.0.0.53"
    assert checks["dns.split-horizon"]["source_address"] == "10.0.0.2"
    assert checks["dns.www-aaaa"]["record_type"] == "AAAA"
    assert checks["dns.mx"]["expected"] == ["mail.example.com."]
    assert checks["metrics.disk"] == {
        "name": "disk",
        "type": "json",
        "interval": "5m",
        "url": "https://node.example.com/metrics",
        "basic_auth": {"username": "metrics", "password": "metricspw"},
        "degraded_conditions": ["[BODY].disk.used_percent < 80"],
        "conditions": ["[BODY].disk.used_percent < 90"],
    }
    assert checks["metrics.queue"]["conditions"] == [
        "[BODY].healthy == true",
        "[BODY].workers[0].busy <= 10",
    ]


@pytest.mark.parametrize(
    ("check_id", "expected"),
    [
        pytest.param(
            "network.ssh",
            {
                "name": "ssh",
                "type": "tcp",
                "interval": "1m",
                "host": "server1.example.com",
                "port": 22,
            },
            id="tcp",
        ),
        pytest.param(
            "network.ldaps",
            {
                "name": "ldaps",
                "type": "tcp",
                "interval": "5m",
                "host": "ldap.example.com",
                "port": 636,
                "tls": True,
                "conditions": ["[CERTIFICATE_EXPIRATION] > 14d"],
            },
            id="tcp-tls",
        ),
        pytest.param(
            "network.router",
            {"name": "router", "type": "icmp", "interval": "1m", "host": "192.168.1.1"},
            id="ping",
        ),
        pytest.param(
            "network.gateway",
            {"name": "gateway", "type": "icmp", "interval": "30s", "host": "10.0.0.1"},
            id="ping-2",
        ),
        pytest.param(
            "mail.smtp-submission",
            {
                "name": "smtp submission",
                "type": "smtp",
                "interval": "15m",
                "host": "mail.example.com",
                "port": 587,
                "tls": "starttls",
                "username": "monitor",
                "password": "smtppw",
            },
            id="smtp",
        ),
        pytest.param(
            "mail.imap-loop",
            {
                "name": "imap loop",
                "type": "imap",
                "interval": "15m",
                "host": "mail.example.com",
                "port": 993,
                "tls": "implicit",
                "username": "loop",
                "password": "imappw",
                "alert": {"retries": 2, "retry_interval": "10s"},
            },
            id="imap",
        ),
    ],
)
def test_network_and_mail_checks_are_live_with_the_real_types_params(
    database: Path, check_id: str, expected: dict[str, Any]
) -> None:
    text, _ = imported(database, TELEGRAM)
    assert live_checks(text)[check_id] == expected
    assert "needs check type" not in text


def test_the_mail_round_trip_nyxmon_does_not_make_is_reported_as_dropped(database: Path) -> None:
    text, report = imported(database, TELEGRAM)
    dropped = {(e.where, e.what) for e in report.of(Fate.DROPPED)}
    assert (
        'health_check 14 "smtp submission"',
        "sending a test message from monitor@example.com to loop@example.com: NyxMon's smtp "
        "check logs in and sends nothing",
    ) in dropped
    assert (
        'health_check 15 "imap loop"',
        "the round trip (a message with subject '[nyxmon]' found in INBOX, then deleted): "
        "NyxMon's imap check logs in and reads nothing",
    ) in dropped
    assert "# not carried over: the round trip (a message with subject '[nyxmon]'" in text
    assert "search_subject" not in text
    assert "from_addr" not in text


def test_tcp_starttls_ping_settings_and_secret_passwords(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    db.execute("INSERT INTO service (name) VALUES ('Net')")
    rows = [
        (
            "tcp",
            "mx",
            "mx.example.com",
            {
                "port": 25,
                "tls_mode": "starttls",
                "starttls_protocol": "smtp",
                "sni": "mail.example.com",
                "verify": False,
            },
        ),
        (
            "tcp",
            "sieve",
            "mx.example.com",
            {"port": 4190, "tls_mode": "starttls", "starttls_protocol": "sieve"},
        ),
        ("ping", "far", "https://far.example.com/x", {"count": 5, "interval": 0.5, "timeout": 2.0}),
        (
            "smtp",
            "secret",
            "mx.example.com",
            {"host": "mx.example.com", "username": "u", "password_secret": "vault:smtp"},
        ),
    ]
    for kind, name, url, data in rows:
        db.execute(
            "INSERT INTO health_check (check_type, url, check_interval, service_id, "
            "next_check_time, processing_started_at, status, name, disabled, data) "
            "VALUES (?, ?, 60, 1, 0, 0, 'idle', ?, 0, ?)",
            (kind, url, name, json.dumps(data)),
        )
    db.commit()
    db.close()
    text, _ = imported(path, {})
    load_config_text(text, environ={})
    checks = live_checks(text)
    assert checks["net.mx"] == {
        "name": "mx",
        "type": "tcp",
        "interval": "1m",
        "host": "mx.example.com",
        "port": 25,
        "starttls": "smtp",
        "server_name": "mail.example.com",
        "verify_tls": False,
    }
    assert checks["net.far"] == {
        "name": "far",
        "type": "icmp",
        "interval": "1m",
        "host": "far.example.com",
        "count": 5,
        "packet_interval": 0.5,
        "reply_wait": 2.0,
    }
    reason, item = held(text, "sieve")
    assert reason.startswith("STARTTLS of the 'sieve' kind (a raw command) has no NyxMon")
    assert (item["type"], item["port"]) == ("tcp", 4190)
    reason, item = held(text, "secret")
    assert reason == "the password was a secret reference: write it in password, then uncomment"
    assert item["username"] == "u"


def test_the_telegram_notifier_becomes_a_native_route_on_the_same_variables(
    database: Path,
) -> None:
    text, _ = imported(database, TELEGRAM)
    assert live_routes(text)["telegram"] == {
        "name": "telegram",
        "type": "telegram",
        "bot_token": "${TELEGRAM_BOT_TOKEN}",
        "chat_id": "${TELEGRAM_CHAT_ID}",
        "parse_mode": "MarkdownV2",
    }
    loaded = load_config_text(text, environ=TELEGRAM)
    [route] = loaded.routes
    assert route.telegram is not None
    assert (route.telegram.bot_token, route.telegram.chat_id) == (
        "555555:AAOriginalNyxmonTokenValue_xyz",
        "42",
    )
    assert route.match.checks == (), "the original notified about every check"
    assert TELEGRAM["TELEGRAM_BOT_TOKEN"] not in text


def test_without_the_variables_the_route_waits_commented_out(database: Path) -> None:
    text, report = imported(database, {})
    load_config_text(text, environ={})
    reason, item = held(text, "telegram")
    assert (
        reason
        == "set TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID (as for the original), then uncomment"
    )
    assert item["bot_token"] == "${TELEGRAM_BOT_TOKEN}"
    assert any(e.what.startswith("route written commented out") for e in report.of(Fate.DROPPED))


def test_the_original_dampening_variable_sets_the_failure_threshold(database: Path) -> None:
    text, _ = imported(database, {**TELEGRAM, "NYXMON_NOTIFY_CONSECUTIVE_FAILURES": "2"})
    assert yaml.safe_load(text)["defaults"]["alert"]["failure_threshold"] == 2


def test_the_report_names_approximations_and_drops(database: Path) -> None:
    _, report = imported(database, TELEGRAM)
    approximated = {(e.where, e.what) for e in report.of(Fate.APPROXIMATED)}
    dropped = {(e.where, e.what) for e in report.of(Fate.DROPPED)}
    assert ('health_check 3 "shop"', "retry_delay is the first wait, doubled after") in (
        approximated
    )
    assert (
        'health_check 15 "imap loop"',
        "in-run retries became NyxMon retries of failed runs",
    ) in (approximated)
    assert ("check_result", "25 stored results (history) are not imported") in dropped
    assert not any(where == 'health_check 20 "disk"' for where, _ in approximated | dropped)
    assert "555555:AAOriginal" not in report.summary()


def test_an_old_database_without_name_disabled_and_data_still_imports(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE service (id integer PRIMARY KEY, name varchar(255));"
        "CREATE TABLE health_check (id integer PRIMARY KEY, check_type varchar(10),"
        " url varchar(512), check_interval integer, service_id bigint);"
        "INSERT INTO service VALUES (1, 'Web');"
        "INSERT INTO health_check VALUES (1, 'http', 'https://example.com/', 300, 1);"
        "INSERT INTO health_check VALUES (2, 'json-http', 'https://example.com/h', 60, 1);"
    )
    db.commit()
    db.close()
    text, _ = imported(path, {})
    assert live_checks(text) == {
        "web.http-check-1": {
            "name": "http check 1",
            "type": "http",
            "interval": "5m",
            "url": "https://example.com/",
        },
        "web.json-http-check-2": {
            "name": "json-http check 2",
            "type": "json",
            "interval": "1m",
            "url": "https://example.com/h",
        },
    }


def test_the_database_is_not_changed(database: Path) -> None:
    before = database.read_bytes()
    imported(database, TELEGRAM)
    assert database.read_bytes() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"not a database at all, just text" * 10, "not a readable SQLite", id="text"),
        pytest.param(None, "is not an original NyxMon database", id="other-sqlite"),
    ],
)
def test_a_file_that_is_not_the_originals_database_is_refused(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "other.db"
    if content is None:
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE monitor (id integer)")
        db.commit()
        db.close()
    else:
        path.write_bytes(content)
    with pytest.raises(SourceError, match=message):
        import_nyxmon01(path, environ={})


def test_a_row_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    path = build_database(tmp_path / "db.sqlite3")
    db = sqlite3.connect(path)
    db.execute("UPDATE health_check SET check_interval = 'often' WHERE id = 2")
    db.commit()
    db.close()
    with pytest.raises(SourceError, match="DB: health_check 2: could not convert"):
        import_nyxmon01(path, environ={})
