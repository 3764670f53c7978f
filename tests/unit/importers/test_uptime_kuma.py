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
    assert len(loaded.checks) == 28
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


_TIMING = {"interval": "1m", "timeout": "48s"}


@pytest.mark.parametrize(
    ("check_id", "expected"),
    [
        pytest.param(
            "infrastructure.ssh-port",
            {"type": "tcp", "host": "server1.example.com", "port": 22},
            id="port",
        ),
        pytest.param(
            "infrastructure.router-ping", {"type": "icmp", "host": "192.168.1.1"}, id="ping"
        ),
        pytest.param(
            "monitors.big-ping",
            {"type": "icmp", "host": "10.0.0.1", "payload_size": 1400},
            id="ping-packet-size",
        ),
        pytest.param(
            "monitors.grpc-health",
            {"type": "grpc", "host": "grpc.example.com", "port": 443, "tls": True},
            id="grpc-keyword",
        ),
        pytest.param(
            "monitors.mqtt-sensors",
            {
                "type": "mqtt",
                "host": "mqtt.example.com",
                "port": 1883,
                "username": "kuma",
                "password": "mqttpw",
            },
            id="mqtt",
        ),
        pytest.param(
            "infrastructure-databases.postgres-main",
            {
                "type": "postgres",
                "host": "db.example.com",
                "port": 5432,
                "database": "app",
                "username": "kuma",
                "password": "pgpw",
                "query": "SELECT 1",
            },
            id="postgres",
        ),
        pytest.param(
            "infrastructure-databases.mysql-shop",
            {
                "type": "mysql",
                "host": "mysql.example.com",
                "port": 3306,
                "database": "shop",
                "username": "kuma",
                "password": "mypw",
            },
            id="mysql",
        ),
        pytest.param(
            "infrastructure-databases.redis-cache",
            {"type": "redis", "host": "redis.example.com", "port": 6379, "password": "redispw"},
            id="redis",
        ),
        pytest.param(
            "monitors.smtp-relay",
            {"type": "smtp", "host": "smtp.example.com", "port": 587, "tls": "starttls"},
            id="smtp",
        ),
        pytest.param(
            "monitors.websocket",
            {"type": "websocket", "url": "wss://ws.example.com/socket"},
            id="websocket",
        ),
    ],
)
def test_monitors_of_every_type_nyxmon_has_are_live_with_its_params(
    imported: tuple[str, ImportReport], check_id: str, expected: dict[str, object]
) -> None:
    check = dict(live_checks(imported[0])[check_id])
    name = check.pop("name")
    assert check_id.endswith(name.lower().replace(" ", "-"))
    check.pop("alert", None)
    assert check == {"type": expected["type"], **_TIMING, **expected}


def test_what_a_live_type_does_not_do_is_reported_as_dropped(
    imported: tuple[str, ImportReport],
) -> None:
    text, report = imported
    dropped = {(e.where, e.what) for e in report.of(Fate.DROPPED)}
    mapped = {(e.where, e.what) for e in report.of(Fate.MAPPED)}
    assert (
        'monitorList[25] "MQTT sensors"',
        "waiting for a message on 'sensors/status' containing 'online': NyxMon's mqtt check "
        "publishes its own message and reads it back",
    ) in dropped
    assert ('monitorList[24] "gRPC health"', "keyword SERVING as the grpc check's own pass") in (
        mapped
    )
    assert "# keyword SERVING: a NyxMon grpc check passes only on SERVING" in text


def kuma_backup(tmp_path: Path, *monitors: dict[str, object]) -> Path:
    source = tmp_path / "backup.json"
    listed = [
        {"id": index + 1, "interval": 60, "timeout": 30, "active": True, **monitor}
        for index, monitor in enumerate(monitors)
    ]
    source.write_text(json.dumps({"version": "1.23.16", "monitorList": listed}))
    return source


def test_connection_strings_that_are_not_urls_wait_for_their_params(tmp_path: Path) -> None:
    source = kuma_backup(
        tmp_path,
        {
            "name": "pg kv",
            "type": "postgres",
            "databaseConnectionString": "host=db user=kuma password=x dbname=app",
        },
        {
            "name": "pg tls",
            "type": "postgres",
            "databaseConnectionString": "postgresql://u%40x:p%2Fw@db:6543/app?sslmode=require&application_name=kuma",
        },
        {"name": "cache tls", "type": "redis", "databaseConnectionString": "rediss://r:6380/2"},
        {"name": "cache db", "type": "redis", "databaseConnectionString": "redis://r/3"},
    )
    draft = import_uptime_kuma(source)
    text = text_of(draft)
    load_config_text(text, environ={})
    assert held(text, "pg kv")[0] == (
        "this connection string cannot be written as NyxMon's postgres params (host, port, "
        "database, username, password): fill them in, then uncomment"
    )
    assert held(text, "cache tls")[0].startswith("rediss:// (TLS) cannot be written as")
    checks = live_checks(text)
    assert checks["monitors.pg-tls"] == {
        "name": "pg tls",
        "type": "postgres",
        "interval": "1m",
        "timeout": "30s",
        "host": "db",
        "port": 6543,
        "database": "app",
        "username": "u@x",
        "password": "p/w",
        "sslmode": "require",
    }
    assert ('monitorList[1] "pg tls"', "connection option 'application_name'") in {
        (e.where, e.what) for e in draft.report.of(Fate.DROPPED)
    }
    assert (checks["monitors.cache-db"]["database"], checks["monitors.cache-db"]["port"]) == (
        3,
        6379,
    )


def test_a_grpc_keyword_monitor_on_another_method_is_held(tmp_path: Path) -> None:
    source = kuma_backup(
        tmp_path,
        {
            "name": "echo",
            "type": "grpc-keyword",
            "grpcUrl": "api:50051",
            "grpcServiceName": "echo.Echo",
            "grpcMethod": "Say",
            "keyword": "hi",
        },
        {
            "name": "health of orders",
            "type": "grpc-keyword",
            "grpcUrl": "api:50051",
            "grpcServiceName": "grpc.health.v1.Health",
            "grpcMethod": "Check",
            "grpcBody": '{"service": "orders"}',
            "keyword": "SERV",
        },
    )
    text = text_of(import_uptime_kuma(source))
    assert held(text, "echo")[0] == (
        "Kuma called echo.Echo/Say and looked for a keyword in the answer; NyxMon's grpc check "
        "speaks only the standard health-checking protocol"
    )
    assert live_checks(text)["monitors.health-of-orders"] == {
        "name": "health of orders",
        "type": "grpc",
        "interval": "1m",
        "timeout": "30s",
        "host": "api",
        "port": 50051,
        "tls": False,
        "service": "orders",
        "conditions": ["[VALUE] == pat(*SERV*)"],
    }


def test_a_push_monitor_waits_for_the_push_type(imported: tuple[str, ImportReport]) -> None:
    reason, item = held(imported[0], "Backup push")
    assert reason == "needs check type push (not in this NyxMon yet)"
    assert (item["type"], item["token"], item["interval"]) == ("push", "Gh7sPq2Lk9", "1h")


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
        "match": {"checks": ["website.homepage", "website.shop", "infrastructure.ssh-port"]},
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
    assert ("proxyList", "NyxMon probes do not go through proxies") in dropped
    held_checks = [w for w, what in dropped if what.startswith("check written commented out")]
    assert len(held_checks) == 10, held_checks
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
