"""``import gatus`` on a realistic config written from Gatus's README, item by item."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nyxmon.checktypes import CheckType, SpecModel
from nyxmon.config import load_config_text
from nyxmon.importers import Fate, SourceError
from nyxmon.importers.gatus import import_gatus
from tests.unit.importers.helpers import (
    FIXTURES,
    REGISTERED,
    held,
    live_checks,
    live_routes,
    text_of,
)

ENV = {"API_TOKEN": "t0ken-value", "CUSTOM_KEY": "k3y-value", "BACKUP_PUSH_TOKEN": "push-value"}
SOURCE = FIXTURES / "gatus.yaml"


@pytest.fixture(scope="module")
def imported() -> tuple[str, object]:
    draft = import_gatus(SOURCE)
    return text_of(draft, ENV), draft.report


def test_the_output_validates_and_counts_what_it_holds(imported: tuple[str, object]) -> None:
    text, _ = imported
    loaded = load_config_text(text, environ=ENV)
    assert len(loaded.checks) == 33
    assert sorted({c.type for c in loaded.checks}) == [
        *("dns", "grpc", "http", "icmp", "json", "smtp", "ssh", "tcp", "tls", "udp", "websocket")
    ]
    document = yaml.safe_load(text)
    assert [s["name"] for s in document["services"]] == [
        "core",
        "api",
        "Endpoints",
        "dns",
        "databases",
        "network",
        "mail",
        "servers",
        "External endpoints",
    ]
    assert document["defaults"] == {
        "interval": "1m",
        "alert": {
            "failure_threshold": 3,
            "success_threshold": 2,
            "retries": 0,
            "send_on_resolved": False,
        },
    }


def test_http_endpoints_map_key_by_key(imported: tuple[str, object]) -> None:
    checks = live_checks(imported[0])
    assert checks["core.website"] == {
        "name": "website",
        "type": "json",
        "interval": "30s",
        "url": "https://twin.sh/health",
        "conditions": ["[STATUS] == 200", "[BODY].status == UP", "[RESPONSE_TIME] < 300"],
        "alert": {"failure_threshold": 2, "send_on_resolved": True},
    }
    assert checks["core.front-page"] == {
        "name": "front-page",
        "type": "http",
        "interval": "1m",
        "url": "https://example.org/",
        "conditions": ["[STATUS] < 300", "[CERTIFICATE_EXPIRATION] > 48h"],
        "alert": {"send_on_resolved": True, "remind_every": "30m"},
    }
    assert checks["core.status-any"]["conditions"] == ["[STATUS] == any(200, 429)"]
    assert checks["core.ip-pattern"]["conditions"] == [
        "[IP] == pat(93.184.*)",
        "[CONNECTED] == true",
    ]
    assert checks["api.users-api"] == {
        "name": "users-api",
        "type": "json",
        "url": "https://api.example.org/users",
        "method": "POST",
        "headers": {"Content-Type": "application/json", "Authorization": "Bearer ${API_TOKEN}"},
        "body": '{"name": "users-api", "group": "api"}',
        "conditions": ["[STATUS] == 201", "len([BODY].id) > 0", "has([BODY].errors) == false"],
    }
    graphql = checks["api.graphql"]
    assert graphql["json_body"] == {
        "query": '{\n  users(gender: "female") {\n    id\n    name\n  }\n}\n'
    }
    assert "body" not in graphql
    assert checks["api.insecure-internal"] == {
        "name": "insecure-internal",
        "type": "http",
        "timeout": "5s",
        "url": "https://10.0.0.5:8443/healthz",
        "verify_tls": False,
        "conditions": ["[STATUS] == 200"],
    }
    assert checks["api.no-redirect"]["follow_redirects"] is False
    assert checks["api.metrics-labels"]["labels"] == {"team": "platform", "tier": "1"}
    assert checks["api.head-check"]["method"] == "HEAD"
    assert (checks["api.head-check"]["interval"], checks["api.head-check"]["timeout"]) == (
        "10s",
        "8s",
    )
    assert (checks["api.fast-poll"]["interval"], checks["api.fast-poll"]["timeout"]) == ("5s", "4s")
    assert checks["api.disabled-endpoint"]["enabled"] is False
    assert checks["api.nightly-job"]["type"] == "json"
    assert checks["endpoints.random-body"]["body"] == "id=[RANDOM_STRING_8]"
    assert "alert" not in checks["endpoints.header-check"], "a disabled alert routes nothing"


def test_dns_endpoints_take_server_port_and_body_as_expected(imported: tuple[str, object]) -> None:
    checks = live_checks(imported[0])
    assert checks["dns.example-dns-query"] == {
        "name": "example-dns-query",
        "type": "dns",
        "query_name": "example.com",
        "record_type": "A",
        "server": "8.8.8.8",
        "expected": ["93.184.215.14"],
        "conditions": ["[DNS_RCODE] == NOERROR"],
    }
    assert checks["dns.mx-record"]["record_type"] == "MX"
    assert checks["dns.nxdomain"]["server"] == "9.9.9.9"
    assert checks["dns.nxdomain"]["port"] == 5353
    assert checks["dns.nxdomain"]["conditions"] == ["[DNS_RCODE] == NXDOMAIN"]
    assert checks["dns.ns-pattern"]["conditions"] == []
    assert (
        '# - "[BODY] == pat(*.iana-servers.net.)"  (not live: [BODY] never observed by dns checks)'
        in imported[0]
    )


@pytest.mark.parametrize(
    ("check_id", "expected"),
    [
        pytest.param(
            "databases.redis",
            {
                "name": "redis",
                "type": "tcp",
                "interval": "30s",
                "host": "127.0.0.1",
                "port": 6379,
                "conditions": ["[CONNECTED] == true"],
            },
            id="tcp",
        ),
        pytest.param(
            "databases.postgres-port",
            {
                "name": "postgres-port",
                "type": "tcp",
                "host": "db.internal",
                "port": 5432,
                "conditions": ["[CONNECTED] == true", "[RESPONSE_TIME] < 100"],
            },
            id="tcp-timing",
        ),
        pytest.param(
            "network.udp-service",
            {"name": "udp-service", "type": "udp", "host": "example.org", "port": 80},
            id="udp",
        ),
        pytest.param(
            "network.ping-example",
            {
                "name": "ping-example",
                "type": "icmp",
                "host": "example.com",
                "conditions": ["[CONNECTED] == true", "[RESPONSE_TIME] < 50"],
            },
            id="icmp",
        ),
        pytest.param(
            "network.tls-ldaps-example",
            {
                "name": "tls-ldaps-example",
                "type": "tls",
                "interval": "30m",
                "host": "ldap.example.com",
                "port": 636,
                "conditions": ["[CONNECTED] == true", "[CERTIFICATE_EXPIRATION] > 48h"],
            },
            id="tls",
        ),
        pytest.param(
            "mail.starttls-smtp-example",
            {
                "name": "starttls-smtp-example",
                "type": "smtp",
                "interval": "30m",
                "timeout": "5s",
                "host": "smtp.gmail.com",
                "port": 587,
                "tls": "starttls",
                "conditions": ["[CONNECTED] == true", "[CERTIFICATE_EXPIRATION] > 48h"],
            },
            id="starttls",
        ),
        pytest.param(
            "servers.ssh-example-password",
            {
                "name": "ssh-example-password",
                "type": "ssh",
                "interval": "1m",
                "host": "example.com",
                "port": 22,
                "conditions": ["[CONNECTED] == true"],
            },
            id="ssh-login",
        ),
        pytest.param(
            "servers.ssh-banner",
            {
                "name": "ssh-banner",
                "type": "ssh",
                "host": "backup.example.com",
                "port": 22,
                "conditions": ["[CONNECTED] == true"],
            },
            id="ssh-banner",
        ),
        pytest.param(
            "network.websocket",
            {
                "name": "websocket",
                "type": "websocket",
                "url": "wss://echo.websocket.org/",
                "send": "status",
                "conditions": ["[CONNECTED] == true", "[BODY] == pat(*served by*)"],
            },
            id="websocket",
        ),
        pytest.param(
            "network.my-grpc",
            {
                "name": "my-grpc",
                "type": "grpc",
                "interval": "30s",
                "timeout": "5s",
                "host": "localhost",
                "port": 50051,
                "tls": False,
                "conditions": ["[CONNECTED] == true", "[VALUE] == SERVING"],
            },
            id="grpc",
        ),
        pytest.param(
            "network.my-grpcs",
            {
                "name": "my-grpcs",
                "type": "grpc",
                "host": "example.com",
                "port": 443,
                "tls": True,
                "conditions": ["[CONNECTED] == true"],
            },
            id="grpcs",
        ),
    ],
)
def test_network_endpoints_become_live_checks_of_their_type(
    imported: tuple[str, object], check_id: str, expected: dict[str, object]
) -> None:
    assert live_checks(imported[0])[check_id] == expected


def test_what_the_nyxmon_type_does_not_do_is_said_in_the_file_and_the_report(
    imported: tuple[str, object],
) -> None:
    text, report = imported
    dropped = {(e.where, e.what) for e in report.of(Fate.DROPPED)}  # type: ignore[attr-defined]
    mapped = {(e.where, e.what) for e in report.of(Fate.MAPPED)}  # type: ignore[attr-defined]
    assert (
        'endpoints[29] "ssh-example-password"',
        "ssh login and command 'uptime': NyxMon's ssh check reads the banner only",
    ) in dropped
    assert (
        'endpoints[29] "ssh-example-password"',
        "condition '[STATUS] == 0' commented out: [STATUS] never observed by ssh checks",
    ) in dropped
    assert '# - "[STATUS] == 0"  (not live: [STATUS] never observed by ssh checks)' in text
    assert (
        'endpoints[24] "udp-service"',
        "[CONNECTED] == true as the udp check's reply",
    ) in mapped
    assert "# [CONNECTED] == true: a NyxMon udp check passes only when a reply arrives" in text
    assert ('endpoints[32] "my-grpc"', "[BODY].status as [VALUE] (the health status)") in mapped


def test_a_tls_endpoint_that_sends_a_body_is_a_tcp_check_with_tls(tmp_path: Path) -> None:
    source = tmp_path / "gatus.yaml"
    source.write_text(
        "endpoints:\n"
        "  - name: imaps\n    url: tls://mail.example.com:993\n    body: a1 NOOP\n"
        "    client: {insecure: true}\n"
        "    conditions: ['[CONNECTED] == true', '[BODY] == pat(*OK*)']\n"
        "  - name: pinger\n    url: icmp://example.com\n    client: {insecure: true}\n"
        "    conditions: ['[CONNECTED] == true']\n"
    )
    draft = import_gatus(source)
    text = text_of(draft)
    checks = live_checks(text)
    assert checks["endpoints.imaps"] == {
        "name": "imaps",
        "type": "tcp",
        "host": "mail.example.com",
        "port": 993,
        "tls": True,
        "send": "a1 NOOP",
        "verify_tls": False,
        "conditions": ["[CONNECTED] == true", "[BODY] == pat(*OK*)"],
    }
    assert "verify_tls" not in checks["endpoints.pinger"]
    assert (
        'endpoints[1] "pinger".client.insecure',
        "NyxMon's icmp checks have no certificate to skip verifying",
    ) in {(e.where, e.what) for e in draft.report.of(Fate.DROPPED)}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "ext-ep-test", {"type": "push", "token": "potato", "interval": "30m"}, id="external"
        ),
        pytest.param(
            "backup-job",
            {"type": "push", "token": "${BACKUP_PUSH_TOKEN}", "interval": "1h"},
            id="external-no-heartbeat",
        ),
    ],
)
def test_external_endpoints_wait_for_the_push_type_commented_out(
    imported: tuple[str, object], name: str, expected: dict[str, object]
) -> None:
    reason, item = held(imported[0], name)
    assert reason == f"needs check type {expected['type']} (not in this NyxMon yet)"
    assert {key: item[key] for key in expected} == expected


def test_sctp_has_no_type_and_says_so(imported: tuple[str, object]) -> None:
    reason, item = held(imported[0], "sctp-service")
    assert reason == "Gatus's sctp endpoints have no NyxMon check type"
    assert item["url"] == "sctp://127.0.0.1:38412"


def test_domain_and_certificate_expiry_conditions_stay_live(imported: tuple[str, object]) -> None:
    checks = live_checks(imported[0])
    assert checks["core.domain-and-cert"]["conditions"] == [
        "[DOMAIN_EXPIRATION] > 720h",
        "[CERTIFICATE_EXPIRATION] > 240h",
    ]


def test_providers_become_routes_over_the_checks_that_alert_through_them(
    imported: tuple[str, object],
) -> None:
    routes = live_routes(imported[0])
    assert routes["telegram"] == {
        "name": "telegram",
        "type": "telegram",
        "bot_token": "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11",
        "chat_id": "0123456789",
        "topic": 7,
        "match": {"checks": ["core.website"]},
    }
    expected_urls = {
        "slack": "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "discord": "https://discord.com/api/webhooks/1234567890/abcdefghijklmnop",
        "ntfy": "ntfys://tk_faketoken@ntfy.sh/gatus-test-topic?priority=2",
        "gotify": "gotifys://gotify.example/AbCdEfG12345?priority=7",
        "pushover": "pover://uQiRzpo4DXghDmr9QzzfQu27cmVRsG@azGDORePK8gMaC0QOYAMyEEuzJnyUi?priority=1",
        "matrix": "matrixs://syt_ZmFrZXRva2Vu@matrix.example.com/!example:matrix.example.com",
        "mattermost": "https://mattermost.example.com/hooks/abcdefghijklmnopqrstuvwxyz",
    }
    for name, url in expected_urls.items():
        assert routes[name]["type"] == "apprise", name
        assert routes[name]["urls"] == [url], name
    assert routes["email"]["urls"] == [
        "mailtos://from%40example.com:hunter2@mail.example.com:587?from=from@example.com"
        "&to=recipient1@example.com,recipient2@example.com"
    ]
    assert routes["custom"] == {
        "name": "custom",
        "type": "webhook",
        "url": "https://hooks.example.com/gatus",
        "headers": {"X-Api-Key": "${CUSTOM_KEY}"},
        "match": {"checks": ["api.nightly-job"]},
    }
    assert routes["discord"]["match"] == {"checks": ["core.front-page"]}
    assert routes["ntfy"]["match"] == routes["email"]["match"] == {"checks": ["api.users-api"]}
    assert set(routes) == {*expected_urls, "telegram", "email", "custom"}
    assert held(imported[0], "pagerduty")[0].startswith("Gatus's pagerduty provider has no")
    assert held(imported[0], "zulip")[0].startswith("Gatus's zulip provider has no")


def test_maintenance_windows_become_weekly_windows(imported: tuple[str, object]) -> None:
    windows = {w["name"]: w for w in yaml.safe_load(imported[0])["maintenance"]}
    assert windows["maintenance"] == {
        "name": "maintenance",
        "all": True,
        "days": ["mon", "thu"],
        "from": "23:00",
        "to": "00:00",
        "timezone": "Europe/Amsterdam",
    }
    assert windows["nightly-job window 1"] == {
        "name": "nightly-job window 1",
        "checks": ["api.nightly-job"],
        "days": "mon-sun",
        "from": "07:30",
        "to": "08:10",
        "timezone": "Europe/Berlin",
    }
    assert windows["nightly-job window 2"]["days"] == ["sat", "sun"]


def test_the_report_names_every_approximation_and_drop(imported: tuple[str, object]) -> None:
    report = imported[1]
    approximated = {(e.where, e.what) for e in report.of(Fate.APPROXIMATED)}  # type: ignore[attr-defined]
    dropped = {(e.where, e.what) for e in report.of(Fate.DROPPED)}  # type: ignore[attr-defined]
    assert (
        'endpoints[0] "website"',
        "alerts with different thresholds share one policy",
    ) in approximated
    assert ("alerting.custom", "a NyxMon webhook (its own JSON body, by POST)") in approximated
    assert (
        'endpoints[9] "oauth-protected".client.oauth2',
        "NyxMon has no OAuth2 client-credentials flow",
    ) in dropped
    assert (
        'endpoints[15] "nightly-job".alerts[5]',
        "alerting.opsgenie is not configured, so Gatus ignores this alert",
    ) in dropped
    assert {where for where, _ in dropped} >= {"metrics", "storage", "ui", "web", "security"}
    held_checks = [w for w, what in dropped if what.startswith("check written commented out")]
    assert len(held_checks) == 3, held_checks
    summary = report.summary()  # type: ignore[attr-defined]
    assert summary.startswith("import from Gatus config gatus.yaml: ")
    for secret in ("hunter2", "tk_faketoken", "AbCdEfG12345", "ABC-DEF1234ghIkl", "s3cret"):
        assert secret not in summary


def test_every_setting_not_carried_over_has_a_comment_in_the_file(
    imported: tuple[str, object],
) -> None:
    text = imported[0]
    for line in (
        "# not carried over: metrics: NyxMon always serves /metrics",
        "# not carried over: client.oauth2: NyxMon has no OAuth2 client-credentials flow",
        "# not carried over: ui.hide-url (display only)",
        "# not carried over: alert description 'nightly job failed'",
        "# approximated: Gatus's starttls:// endpoint became an smtp check",
        "# timeout shortened from 10s: it must be shorter than the interval",
    ):
        assert line in text


class FakePushSpec(SpecModel):
    token: str


def test_a_type_registered_later_is_written_live_without_changing_the_importer() -> None:
    """The importer writes ``push`` checks whether or not the type exists; registering one (a
    fake here, as issue 16's would be) is all it takes for them to be written live."""
    push = CheckType(
        name="push",
        params=FakePushSpec,
        observes=frozenset({"RESPONSE_TIME"}),
        executor="tests:none",
        summary="a heartbeat pushed to NyxMon",
    )
    text = text_of(import_gatus(SOURCE), ENV, types={**REGISTERED, "push": push})
    checks = live_checks(text)
    assert checks["core.ext-ep-test"] == {
        "name": "ext-ep-test",
        "type": "push",
        "interval": "30m",
        "token": "potato",
        "alert": {"send_on_resolved": True},
    }
    assert checks["external-endpoints.backup-job"]["token"] == "${BACKUP_PUSH_TOKEN}"
    assert "needs check type" not in text
    assert "needs check type push" in text_of(import_gatus(SOURCE), ENV)


def test_an_unset_variable_holds_what_uses_it_so_the_file_still_validates() -> None:
    text = text_of(import_gatus(SOURCE), {})
    load_config_text(text, environ={})
    reason, item = held(text, "users-api")
    assert "environment variable API_TOKEN is not set" in reason
    assert item["headers"]["Authorization"] == "Bearer ${API_TOKEN}"
    assert "environment variable CUSTOM_KEY is not set" in held(text, "custom")[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            "endpoints:\n  - name: a\n    url: [\n", "gatus.yaml:4: not valid YAML", id="yaml"
        ),
        pytest.param(
            "endpoints:\n  - name: api\n    url: https://x/\n    interval: fast\n",
            "gatus.yaml: endpoints\\[0\\] 'api': interval: 'fast' is not a duration",
            id="bad-interval",
        ),
        pytest.param(
            "endpoints:\n  - just-a-string\n",
            "gatus.yaml: endpoints\\[0\\]: expected a mapping with name and url",
            id="not-a-mapping",
        ),
        pytest.param(
            "services: []\n",
            "not a Gatus config: expected a mapping with endpoints:",
            id="not-gatus",
        ),
    ],
)
def test_a_file_that_is_not_gatus_config_is_refused_naming_where(
    tmp_path: Path, content: str, message: str
) -> None:
    source = tmp_path / "gatus.yaml"
    source.write_text(content)
    with pytest.raises(SourceError, match=message):
        import_gatus(source)
