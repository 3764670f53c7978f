"""The ping endpoints against a real agent on SQLite, served by uvicorn: every endpoint, the
body cut at the check's limit, start/end pairing by rid, HEAD, unknown keys, and a 200 that
means the ping is in the database."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import requests
from tests.integration.web.conftest import WebEnv, wait_for

from nyxmon.domain.model import Outcome

KEY = "backup-key_0123456789"
OTHER = "worker.key~2"

PUSH_YAML = f"""\
services:
  - name: Jobs
    checks:
      - name: backup
        type: push
        token: {KEY}
        interval: 1h
        timeout: 10m
        body_limit: 16
      - name: worker
        type: push
        token: "{OTHER}"
        interval: 1h
        conditions: ["[EXIT_STATUS] == 0", "[BODY] != panic", "[DURATION] < 1h"]
"""


@pytest.fixture
def env(start_web: Callable[..., WebEnv]) -> WebEnv:
    return start_web(PUSH_YAML)


def results(env: WebEnv, check_id: str = "jobs.backup") -> list[Any]:
    """Newest first, straight from the database."""
    return [stored.result for stored in env.agent.store.results(check_id).items]


def test_a_ping_is_in_the_database_when_it_is_answered(env: WebEnv) -> None:
    answer = requests.get(f"{env.url}/ping/{KEY}", headers={"User-Agent": "cron/1.0"})
    assert (answer.status_code, answer.text) == (200, "OK\n")
    (result,) = results(env)
    assert result.outcome is Outcome.OK
    assert result.details["ping"] == "success"
    assert result.details["remote_addr"] == "127.0.0.1"
    assert result.details["user_agent"] == "cron/1.0"
    assert result.details["method"] == "GET"
    wait_for(lambda: env.agent.control.statuses()["jobs.backup"].alert_state == "up", what="up")


@pytest.mark.parametrize(
    ("suffix", "ping", "outcome", "exit_status"),
    [
        pytest.param("", "success", Outcome.OK, None, id="success"),
        pytest.param("/fail", "fail", Outcome.FAIL, None, id="fail"),
        pytest.param("/0", "success", Outcome.OK, 0, id="exit-0"),
        pytest.param("/1", "fail", Outcome.FAIL, 1, id="exit-1"),
        pytest.param("/255", "fail", Outcome.FAIL, 255, id="exit-255"),
        pytest.param("/start", "start", Outcome.OK, None, id="start"),
        pytest.param("/log", "log", Outcome.OK, None, id="log"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_each_endpoint_records_what_it_says(
    env: WebEnv, suffix: str, ping: str, outcome: Outcome, exit_status: int | None, method: str
) -> None:
    answer = requests.request(method, f"{env.url}/ping/{KEY}{suffix}")
    assert answer.status_code == 200, answer.text
    (result,) = results(env)
    assert result.details["ping"] == ping
    assert result.details["method"] == method
    assert result.outcome is outcome
    assert result.details.get("exit_status") == exit_status


def test_a_fail_ping_makes_the_check_down_and_a_success_up_again(env: WebEnv) -> None:
    statuses = env.agent.control.statuses
    assert requests.get(f"{env.url}/ping/{KEY}/3").status_code == 200
    assert statuses()["jobs.backup"].alert_state == "down"
    assert requests.get(f"{env.url}/ping/{KEY}").status_code == 200
    assert statuses()["jobs.backup"].alert_state == "up"


def test_start_and_log_pings_do_not_move_the_state(env: WebEnv) -> None:
    assert requests.get(f"{env.url}/ping/{KEY}/fail").status_code == 200
    for suffix in ("/start", "/log"):
        assert requests.post(f"{env.url}/ping/{KEY}{suffix}", data=b"x").status_code == 200
        assert env.agent.control.statuses()["jobs.backup"].alert_state == "down"


def test_the_body_is_kept_up_to_the_checks_limit(env: WebEnv) -> None:
    body = b"0123456789abcdefTHE-REST-IS-CUT"
    assert requests.post(f"{env.url}/ping/{KEY}/log", data=body).status_code == 200
    (result,) = results(env)
    assert result.details["body"] == "0123456789abcdef"
    assert result.details["body_size"] == len(body)
    assert result.details["body_truncated"] is True


def test_rid_pairs_a_start_with_its_end_and_records_the_duration(env: WebEnv) -> None:
    assert requests.get(f"{env.url}/ping/{KEY}/start?rid=run-a").status_code == 200
    assert requests.get(f"{env.url}/ping/{KEY}/start?rid=run-b").status_code == 200
    first_start = results(env)[1].started_at
    assert requests.get(f"{env.url}/ping/{KEY}?rid=run-a").status_code == 200
    end = results(env)[0]
    assert end.details["rid"] == "run-a"
    # times are stored to the millisecond (the details keep the start as the agent saw it)
    assert end.details["run_started_at"] == pytest.approx(first_start, abs=0.001)
    assert end.duration == pytest.approx(end.started_at - first_start, abs=0.002)
    # run-b is still open; an end without a rid pairs with no start of its own
    assert requests.get(f"{env.url}/ping/{KEY}").status_code == 200
    assert "run_started_at" not in results(env)[0].details


def test_head_answers_without_a_body_and_is_recorded(env: WebEnv) -> None:
    answer = requests.head(f"{env.url}/ping/{KEY}")
    assert answer.status_code == 200
    assert answer.content == b""
    (result,) = results(env)
    assert result.details["method"] == "HEAD"


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/ping/no-such-key", id="unknown-key"),
        pytest.param("/ping/no-such-key/fail", id="unknown-key-fail"),
        pytest.param(f"/ping/{KEY}/256", id="exit-status-too-big"),
        pytest.param(f"/ping/{KEY}/-1", id="negative-exit-status"),
        pytest.param(f"/ping/{KEY}/finish", id="unknown-action"),
        pytest.param(f"/ping/{KEY}/start/more", id="too-deep"),
        pytest.param(f"/ping/{KEY}?rid=" + "r" * 129, id="rid-too-long"),
    ],
)
def test_anything_else_is_the_same_bare_404(env: WebEnv, path: str) -> None:
    answer = requests.get(env.url + path)
    assert answer.status_code == 404
    assert answer.text == "not found\n"
    assert KEY not in answer.text
    assert results(env) == []


def test_other_methods_are_refused(env: WebEnv) -> None:
    answer = requests.delete(f"{env.url}/ping/{KEY}")
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "GET, POST, HEAD"
    assert results(env) == []


def test_pings_need_no_login_and_set_no_cookie(env: WebEnv) -> None:
    answer = requests.get(f"{env.url}/ping/{KEY}")
    assert answer.status_code == 200
    assert "set-cookie" not in {name.lower() for name in answer.headers}


def test_conditions_read_the_exit_status_body_and_duration(env: WebEnv) -> None:
    url = f"{env.url}/ping/{OTHER}"
    assert requests.get(url + "/start?rid=1").status_code == 200
    assert requests.post(url + "/0?rid=1", data=b"all good").status_code == 200
    ok = results(env, "jobs.worker")[0]
    assert ok.outcome is Outcome.OK, ok.message
    assert requests.post(url + "/0", data=b"panic").status_code == 200
    failed = results(env, "jobs.worker")[0]
    assert failed.outcome is Outcome.FAIL
    assert failed.details["failed_conditions"] == [
        "[BODY] (panic) != panic",
        "[DURATION] (missing: no start ping began this run) < 1h",
    ]


def test_the_api_generates_a_key_shows_it_once_and_rotates_it(env: WebEnv) -> None:
    api = env.api()
    created = api.post(
        f"{env.url}/api/v1/checks",
        json={"service": "Jobs", "check": {"name": "nightly", "type": "push", "interval": "1d"}},
    )
    assert created.status_code == 201, created.text
    key = created.json()["params"]["token"]
    assert len(key) == 22
    public = env.agent.config.agent.web.public_url.rstrip("/")
    assert created.headers["X-NyxMon-Ping-URL"] == f"{public}/ping/{key}"
    shown = api.get(f"{env.url}/api/v1/checks/jobs.nightly").json()
    assert shown["params"]["token"] == "********"
    assert requests.get(f"{env.url}/ping/{key}").status_code == 200

    rotated = api.post(f"{env.url}/api/v1/checks/jobs.nightly/ping-key")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()
    assert new["check_id"] == "jobs.nightly"
    assert new["ping_key"] != key
    assert new["ping_url"] == f"{public}/ping/{new['ping_key']}"
    assert requests.get(f"{env.url}/ping/{key}").status_code == 404
    assert requests.get(f"{env.url}/ping/{new['ping_key']}").status_code == 200
    # putting back what GET shows keeps the (new) key
    body = api.get(f"{env.url}/api/v1/checks/jobs.nightly").json()
    assert api.put(f"{env.url}/api/v1/checks/jobs.nightly", json=body).status_code == 200
    assert requests.get(f"{env.url}/ping/{new['ping_key']}").status_code == 200


def test_a_checks_own_key_from_the_file_cannot_be_rotated_here(env: WebEnv) -> None:
    answer = env.api().post(f"{env.url}/api/v1/checks/jobs.backup/ping-key")
    assert answer.status_code == 409
    assert "config file" in answer.json()["detail"]
    assert KEY not in answer.text


def test_the_check_page_shows_the_schedule_pings_and_a_curl_line(env: WebEnv) -> None:
    assert requests.get(f"{env.url}/ping/{KEY}/start").status_code == 200
    assert requests.get(f"{env.url}/ping/{KEY}/7").status_code == 200
    browser = env.login()
    page = browser.get(f"{env.url}/checks/jobs.backup")
    assert page.status_code == 200
    text = page.text
    assert "every 1 h, grace 1 min" in text
    assert "curl -fsS -m 10 --retry 5 -o /dev/null" in text
    assert "/ping/YOUR-PING-KEY" in text
    assert KEY not in text, "the key of a check is never on its page"
    assert text.count("data-ping-row") == 2
    assert "exit 7" in text
    sections = browser.get(f"{env.url}/checks/jobs.backup/sections")
    assert 'id="push"' in sections.text, "the panel follows the live feed"


def test_rotating_on_the_page_shows_the_new_key_once(env: WebEnv) -> None:
    api = env.api()
    created = api.post(
        f"{env.url}/api/v1/checks",
        json={"service": "Jobs", "check": {"name": "hourly", "type": "push", "interval": "1h"}},
    )
    assert created.status_code == 201, created.text
    browser = env.login()
    rotated = browser.post(f"{env.url}/checks/jobs.hourly/ping-key")
    assert rotated.status_code == 200, rotated.text[:500]
    assert "data-ping-key-shown" in rotated.text
    key = api.get(f"{env.url}/api/v1/checks/jobs.hourly").json()["params"]["token"]
    assert key == "********"
    found = re.search(r"/ping/([A-Za-z0-9_.~-]+)", rotated.text)
    assert found is not None
    shown = found.group(1)
    assert shown != "YOUR-PING-KEY"
    assert requests.get(f"{env.url}/ping/{shown}").status_code == 200
    again = browser.get(f"{env.url}/checks/jobs.hourly")
    assert shown not in again.text


def test_a_push_check_made_with_the_form_shows_its_generated_key_once(env: WebEnv) -> None:
    browser = env.login()
    made = browser.post(
        f"{env.url}/checks/new",
        data={"type": "push", "service": "Jobs", "name": "formjob", "interval": "1h"},
        allow_redirects=False,
    )
    assert made.status_code == 200, made.text[:2000]
    assert "data-ping-key-shown" in made.text
    found = re.search(r"/ping/([A-Za-z0-9_.~-]{22})\b", made.text)
    assert found is not None
    assert requests.get(f"{env.url}/ping/{found.group(1)}").status_code == 200
    assert found.group(1) not in browser.get(f"{env.url}/checks/jobs.formjob").text


def test_a_ping_records_the_client_a_trusted_proxy_names_and_no_one_else_does(
    start_web: Callable[..., WebEnv],
) -> None:
    # Pings skip the app's middleware stack, but not the forwarded-headers layer.
    spoofed = {"X-Forwarded-For": "203.0.113.7"}
    plain = start_web(PUSH_YAML)
    assert requests.get(f"{plain.url}/ping/{KEY}", headers=spoofed).status_code == 200
    assert results(plain)[0].details["remote_addr"] == "127.0.0.1"
    proxied = start_web(PUSH_YAML, web_yaml="  trusted_proxies: [127.0.0.1]")
    assert requests.get(f"{proxied.url}/ping/{KEY}", headers=spoofed).status_code == 200
    assert results(proxied)[0].details["remote_addr"] == "203.0.113.7"


def test_an_unknown_key_is_answered_exactly_like_a_path_that_is_no_ping(env: WebEnv) -> None:
    unknown = requests.get(f"{env.url}/ping/no-such-key")
    nonsense = requests.get(f"{env.url}/ping/{KEY}/finish")
    assert unknown.status_code == nonsense.status_code == 404
    assert unknown.content == nonsense.content
    drop = {"date"}
    assert {k: v for k, v in unknown.headers.items() if k.lower() not in drop} == {
        k: v for k, v in nonsense.headers.items() if k.lower() not in drop
    }
