"""``import uptime-kuma`` on a realistic backup (Kuma 1.23's ``Monitor.toJSON`` fields, 41
monitors of every type, 9 notifications), item by item."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from nyxmon.config import load_config_text
from nyxmon.importers import Fate, ImportReport, SourceError
from nyxmon.importers.uptime_kuma import import_uptime_kuma
from tests.unit.importers.helpers import FIXTURES, held, live_checks, live_routes, text_of

SOURCE = FIXTURES / "uptime-kuma.json"


@pytest.fixture(scope="module")
def imported() -> tuple[str, ImportReport]:
    draft = import_uptime_kuma(SOURCE)
    return text_of(draft), draft.report


def test_groups_become_services_and_the_file_validates(
    imported: tuple[str, ImportReport],
) -> None:
    text, _ = imported
    loaded = load_config_text(text, environ={})
    assert len(loaded.checks) == 18
    services = yaml.safe_load(text)["services"]
    assert [(s["name"], s.get("group", ""), s.get("labels")) for s in services] == [
        ("Website", "", {"team": "web"}),
        ("Infrastructure", "", None),
        ("Infrastructure / Databases", "Infrastructure", None),
        ("Monitors", "", None),
    ]
    assert yaml.safe_load(text)["defaults"] == {
        "alert": {"failure_threshold": 1, "success_threshold": 1, "send_on_resolved": True}
    }


def test_http_monitors_map_field_by_field(imported: tuple[str, ImportReport]) -> None:
    checks = live_checks(imported[0])
    assert checks["website.homepage"] == {
        "name": "Homepage",
        "type": "http",
        "interval": "1m",
        "timeout": "48s",
        "labels": {"env": "prod", "critical": ""},
        "url": "https://example.com/",
        "expected_status": ["200-299"],
        "max_redirects": 10,
        "conditions": ["[CERTIFICATE_EXPIRATION] > 7d"],
        "alert": {"retries": 3, "retry_interval": "20s", "remind_every": "10m"},
    }
    shop = checks["website.shop"]
    assert shop["expected_status"] == ["200-299", "301", "302"]
    assert shop["follow_redirects"] is False
    admin = checks["website.admin-self-signed"]
    assert admin["verify_tls"] is False
    assert admin["basic_auth"] == {"username": "monitor", "password": "pa$$${x}ss"}
    assert checks["monitors.api-create"] == {
        "name": "API create",
        "type": "http",
        "interval": "2m",
        "timeout": "30s",
        "url": "https://api.example.com/v1/items",
        "method": "POST",
        "headers": {"Authorization": "Bearer abc.def", "X-Probe": "kuma"},
        "json_body": {"name": "probe"},
        "expected_status": ["201"],
        "max_redirects": 10,
    }
    assert checks["monitors.form-post"]["body"] == "a=1&b=2"
    assert checks["website.status-keyword"]["keyword"] == "All systems operational"
    assert checks["monitors.no-errors"]["keyword_absent"] == "ERROR"
    assert checks["monitors.paused-site"]["paused"] is True
    assert checks["monitors.browser-check"]["url"] == "https://app.example.com/"
    slow = checks["monitors.slow-poll"]
    assert (slow["interval"], slow["timeout"], slow["alert"]) == (
        "20s",
        "16s",
        {"retries": 1, "retry_interval": "10s"},
    )
    assert checks["monitors.rabbitmq"] == {
        "name": "RabbitMQ",
        "type": "http",
        "interval": "1m",
        "timeout": "48s",
        "url": "https://rabbit1.example.com:15672/api/health/checks/alarms/",
        "basic_auth": {"username": "monitor", "password": "rabbitpw"},
        "expected_status": [200],
    }


def test_the_basic_auth_password_survives_substitution(imported: tuple[str, ImportReport]) -> None:
    loaded = load_config_text(imported[0], environ={"x": "NOT-USED"})
    [admin] = [c for c in loaded.checks if c.name == "Admin (self-signed)"]
    assert admin.params["basic_auth"]["password"] == "pa$${x}ss"


def test_json_queries_become_body_conditions(imported: tuple[str, ImportReport]) -> None:
    checks = live_checks(imported[0])
    assert checks["monitors.health-json"]["type"] == "json"
    assert checks["monitors.health-json"]["conditions"] == ["[BODY].status == UP"]
    assert checks["monitors.queue-depth"]["conditions"] == ["[BODY].queue.depth == 0"]
    assert checks["monitors.jsonata-sum"]["conditions"] == []
    assert "(not live: a JSONata expression, not a path)" in imported[0]


def test_dns_monitors_keep_server_port_and_record_type(imported: tuple[str, ImportReport]) -> None:
    checks = live_checks(imported[0])
    assert checks["infrastructure.dns-apex"] == {
        "name": "DNS apex",
        "type": "dns",
        "interval": "1m",
        "timeout": "48s",
        "query_name": "example.com",
        "record_type": "A",
        "server": "9.9.9.9",
        "allow_empty_answer": False,
    }
    assert (checks["monitors.dns-mail"]["record_type"], checks["monitors.dns-mail"]["port"]) == (
        "MX",
        5353,
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "SSH port", {"type": "tcp", "host": "server1.example.com", "port": 22}, id="port"
        ),
        pytest.param("Router ping", {"type": "icmp", "host": "192.168.1.1"}, id="ping"),
        pytest.param(
            "Backup push", {"type": "push", "token": "Gh7sPq2Lk9", "interval": "1h"}, id="push"
        ),
        pytest.param(
            "gRPC health",
            {
                "type": "grpc",
                "url": "grpc.example.com:443",
                "service": "grpc.health.v1.Health",
                "tls": True,
                "keyword": "SERVING",
            },
            id="grpc-keyword",
        ),
        pytest.param(
            "MQTT sensors",
            {
                "type": "mqtt",
                "host": "mqtt.example.com",
                "port": 1883,
                "topic": "sensors/status",
                "username": "kuma",
                "password": "mqttpw",
                "expected": "online",
            },
            id="mqtt",
        ),
        pytest.param(
            "Postgres main",
            {
                "type": "postgres",
                "dsn": "postgres://kuma:pgpw@db.example.com:5432/app",
                "query": "SELECT 1",
            },
            id="postgres",
        ),
        pytest.param(
            "MySQL shop",
            {"type": "mysql", "dsn": "mysql://kuma:mypw@mysql.example.com:3306/shop"},
            id="mysql",
        ),
        pytest.param(
            "Redis cache",
            {"type": "redis", "dsn": "redis://:redispw@redis.example.com:6379"},
            id="redis",
        ),
        pytest.param(
            "SMTP relay",
            {"type": "smtp", "host": "smtp.example.com", "port": 587, "tls": "starttls"},
            id="smtp",
        ),
        pytest.param(
            "Websocket", {"type": "websocket", "url": "wss://ws.example.com/socket"}, id="websocket"
        ),
    ],
)
def test_monitors_of_types_to_come_are_commented_out_with_their_mapping(
    imported: tuple[str, ImportReport], name: str, expected: dict[str, object]
) -> None:
    reason, item = held(imported[0], name)
    assert reason == f"needs check type {expected['type']} (not in this NyxMon yet)"
    assert {key: item[key] for key in expected} == expected


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("Mongo", "MongoDB"),
        ("SQL Server", "Microsoft SQL Server"),
        ("Docker app", "Docker containers"),
        ("RADIUS", "RADIUS"),
        ("Minecraft", "game servers (GameDig)"),
        ("Steam server", "Steam game servers"),
        ("Kafka", "Kafka producers"),
        ("Tailscale", "Tailscale pings"),
    ],
)
def test_monitors_without_a_nyxmon_type_say_so(
    imported: tuple[str, ImportReport], name: str, what: str
) -> None:
    assert held(imported[0], name)[0] == f"NyxMon has no check type for {what}"


def test_upside_down_mode_is_not_faked(imported: tuple[str, ImportReport]) -> None:
    reason, item = held(imported[0], "Upside down")
    assert reason == "upside-down mode (up when the service fails) has no NyxMon equivalent"
    assert item["url"] == "https://should-be-down.example.com/"


def test_notifications_become_routes_over_their_monitors(
    imported: tuple[str, ImportReport],
) -> None:
    routes = live_routes(imported[0])
    assert routes["Ops-Telegram"] == {
        "name": "Ops-Telegram",
        "type": "telegram",
        "bot_token": "987654321:AAFakeTokenForKumaImport_abcdefghij",
        "chat_id": "-1001122334455",
        "topic": 42,
        "match": {"checks": ["website.homepage", "website.shop"]},
    }
    assert routes["Phone-ntfy"]["urls"] == [
        "ntfys://kuma:ntfypw@ntfy.example.com/kuma-alerts?priority=5"
    ]
    assert routes["Team-Discord"]["urls"] == ["https://discord.com/api/webhooks/111/abcDEF"]
    assert routes["Team-Discord"]["match"] == {"checks": ["monitors.health-json"]}
    assert routes["Mail"]["urls"] == [
        "mailtos://kuma%40example.com:mailpw@smtp.example.com:465?from=kuma@example.com"
        "&to=ops@example.com&mode=ssl"
    ]
    assert routes["Slack"]["urls"] == [
        "https://hooks.slack.com/services/T1/B1/abcdefghijklmnopqrstuvwx"
    ]
    assert routes["Hook"] == {
        "name": "Hook",
        "type": "webhook",
        "url": "https://hooks.example.com/kuma",
        "headers": {"X-Token": "hooktoken"},
        "match": {"checks": ["monitors.api-create"]},
    }
    assert routes["Pushover"]["urls"] == [
        "pover://uQiRzpo4DXghDmr9QzzfQu27cmVRsG@azGDORePK8gMaC0QOYAMyEEuzJnyUi"
        "?priority=1&sound=siren"
    ]
    assert routes["Pushover"]["match"] == {"checks": ["website.shop-duplicate"]}
    assert held(imported[0], "Gotify")[0] == "the notification was disabled in Kuma"
    assert held(imported[0], "Feishu")[0].startswith("Kuma's Feishu notifications have no")


def test_the_report_names_every_approximation_and_drop(
    imported: tuple[str, ImportReport],
) -> None:
    report = imported[1]
    approximated = {(e.where, e.what) for e in report.of(Fate.APPROXIMATED)}
    dropped = {(e.where, e.what) for e in report.of(Fate.DROPPED)}
    assert ('monitorList[13] "Browser check"', "real-browser became a plain HTTP request") in (
        approximated
    )
    assert ('monitorList[28] "RabbitMQ"', "only the first RabbitMQ node is checked") in approximated
    assert ('monitorList[14] "NTLM intranet"', "ntlm authentication") in dropped
    assert ('monitorList[20] "Big ping"', "packet size 1400") in dropped
    assert ("proxyList", "NyxMon probes do not go through proxies") in dropped
    held_checks = [w for w, what in dropped if what.startswith("check written commented out")]
    assert len(held_checks) == 20
    assert not report.exact
    summary = report.summary()
    for secret in ("AAFakeTokenForKumaImport", "ntfypw", "mailpw", "rabbitpw", "pgpw", "hooktoken"):
        assert secret not in summary


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("{not json", "not valid JSON", id="json"),
        pytest.param(json.dumps({"endpoints": []}), "not an Uptime Kuma backup", id="not-kuma"),
        pytest.param(
            json.dumps({"monitorList": [{"name": "api", "type": "http", "interval": "often"}]}),
            "backup.json: monitorList\\[0\\] 'api': interval: expected a number, got 'often'",
            id="bad-interval",
        ),
        pytest.param(
            json.dumps({"monitorList": [42]}),
            "backup.json: monitorList\\[0\\]: expected a monitor object",
            id="not-an-object",
        ),
    ],
)
def test_a_file_that_is_not_a_backup_is_refused(tmp_path: Path, content: str, message: str) -> None:
    source = tmp_path / "backup.json"
    source.write_text(content)
    with pytest.raises(SourceError, match=message):
        import_uptime_kuma(source)
