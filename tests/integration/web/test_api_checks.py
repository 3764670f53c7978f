"""``/api/v1/checks`` and ``/api/v1/services``: good and bad input for each endpoint; the same
verdicts as the config file; rejected requests change nothing; config checks are read-only."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from tests.integration.web.conftest import WebEnv, wait_for

from nyxmon.config import ConfigValidationError, load_config_text

NEW = {"name": "status", "type": "http", "url": "http://127.0.0.1:9/status", "interval": "5s"}


def _snapshot(env: WebEnv) -> tuple[Any, ...]:
    store = env.agent.store
    checks = tuple(
        sorted((c.id, c.paused, c.interval, dict(c.params)) for c in store.list_checks().items)
    )
    services = tuple(sorted(s.name for s in store.list_services()))
    return checks, services


def test_listing_filters_by_service_label_state_type_and_source(web: WebEnv) -> None:
    api = web.api()
    wait_for(
        lambda: api.get(web.url + "/api/v1/checks?state=down").json()["total"] >= 1,
        what="the broken check to be down",
    )
    every = api.get(web.url + "/api/v1/checks").json()
    assert [c["id"] for c in every["items"]] == ["api.health", "website.broken", "website.home"]
    assert every["total"] == 3
    assert every["items"][2]["labels"] == {"tier": "front"}
    assert every["items"][2]["source"] == "config"

    def ids(query: str) -> list[str]:
        answer = api.get(web.url + "/api/v1/checks" + query)
        assert answer.status_code == 200, answer.text
        return [c["id"] for c in answer.json()["items"]]

    assert ids("?service=Website") == ["website.broken", "website.home"]
    assert ids("?label=tier=front") == ["website.home"]
    assert ids("?type=json") == ["api.health"]
    assert ids("?state=down") == ["website.broken"]
    assert ids("?source=api") == []
    assert ids("?limit=1&offset=1") == ["website.broken"]
    page = api.get(web.url + "/api/v1/checks?limit=1&offset=1").json()
    assert (page["total"], page["limit"], page["offset"]) == (3, 1, 1)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        pytest.param("?limit=0", "query.limit", id="limit-zero"),
        pytest.param("?limit=1001", "query.limit", id="limit-too-big"),
        pytest.param("?offset=-1", "query.offset", id="negative-offset"),
        pytest.param("?state=sleepy", "query.state", id="unknown-state"),
        pytest.param("?type=htp", "query.type", id="unknown-type"),
        pytest.param("?label=no-equals-sign", "query.label", id="label-without-value"),
        pytest.param("?source=yaml", "query.source", id="unknown-source"),
    ],
)
def test_bad_list_parameters_are_422_naming_the_parameter(
    web: WebEnv, query: str, field: str
) -> None:
    answer = web.get("/api/v1/checks" + query)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == 422
    assert [error["field"] for error in problem["errors"]] == [field]


def test_get_a_check_with_its_live_status(web: WebEnv) -> None:
    api = web.api()
    wait_for(
        lambda: api.get(web.url + "/api/v1/checks/website.home").json()["state"] == "up",
        what="the home check to be up",
    )
    check = api.get(web.url + "/api/v1/checks/website.home").json()
    assert check["params"]["url"].endswith("/health")
    assert check["status"]["last_outcome"] == "ok"
    missing = api.get(web.url + "/api/v1/checks/nope.nothing")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no check with id 'nope.nothing'"


def test_create_runs_the_new_check_and_makes_its_service(web: WebEnv) -> None:
    api = web.api()
    answer = api.post(web.url + "/api/v1/checks", json={"service": "Status page", "check": NEW})
    assert answer.status_code == 201, answer.text
    assert answer.headers["location"] == "/api/v1/checks/status-page.status"
    body = answer.json()
    assert (body["id"], body["source"], body["interval"]) == ("status-page.status", "api", 5.0)
    assert body["timeout"] == 0.9  # the agent's defaults fill what the body leaves out
    assert web.agent.store.get_service("Status page") is not None
    wait_for(
        lambda: web.agent.store.count_results("status-page.status") >= 1,
        what="the agent to run the new check",
    )
    again = api.post(web.url + "/api/v1/checks", json={"service": "Status page", "check": NEW})
    assert again.status_code == 409
    assert "exists already" in again.json()["detail"]


def test_create_with_an_id_of_a_config_check_is_a_conflict(web: WebEnv) -> None:
    before = _snapshot(web)
    body = {"service": "Website", "check": {**NEW, "id": "website.home"}}
    answer = web.api().post(web.url + "/api/v1/checks", json=body)
    assert answer.status_code == 409
    assert "config file" in answer.json()["detail"]
    assert _snapshot(web) == before


@pytest.mark.parametrize(
    ("check", "field", "fragment"),
    [
        pytest.param(
            {**NEW, "interval": "fast"}, "check.interval", "expected a duration", id="duration"
        ),
        pytest.param(
            {**NEW, "interval": "500ms"}, "check.interval", "at least 1s", id="interval-floor"
        ),
        pytest.param(
            {**NEW, "timeout": "10s"},
            "check.timeout",
            "shorter than the check's interval",
            id="timeout",
        ),
        pytest.param({**NEW, "urll": "x"}, "check.urll", 'did you mean "url"?', id="typo"),
        pytest.param({**NEW, "type": "htp"}, "check.type", 'did you mean "http"?', id="type"),
        pytest.param({**NEW, "url": 5}, "check.url", "expected a string, got 5", id="url"),
        pytest.param(
            {**NEW, "conditions": ["[STATUS] = 200"]},
            "check.conditions[0]",
            "a single '='",
            id="condition",
        ),
        pytest.param({**NEW, "id": "has space"}, "check.id", "expected an id", id="id"),
        pytest.param(
            {
                "name": "apex",
                "type": "dns",
                "query_name": "x.test",
                "conditions": ["[STATUS] == 200"],
            },
            "check.conditions[0]",
            "[STATUS] is never observed by dns checks (they observe [ANSWERS], [CONNECTED],",
            id="unobservable-condition",
        ),
        pytest.param(
            {**NEW, "max_response_time": "soon"},
            "check.max_response_time",
            'expected a duration like 30s, 5m or 1h30m, got "soon"',
            id="max-response-time",
        ),
        pytest.param(
            {k: v for k, v in NEW.items() if k != "name"},
            "check",
            'missing required key "name"',
            id="no-name",
        ),
    ],
)
def test_invalid_checks_are_422_naming_the_field_and_change_nothing(
    web: WebEnv, check: dict[str, Any], field: str, fragment: str
) -> None:
    before = _snapshot(web)
    answer = web.api().post(web.url + "/api/v1/checks", json={"service": "S", "check": check})
    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert field in [error["field"] for error in errors], errors
    assert any(fragment in error["message"] for error in errors), errors
    assert _snapshot(web) == before


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"check": NEW}, id="no-service"),
        pytest.param({"service": "", "check": NEW}, id="empty-service"),
        pytest.param({"service": "S", "check": NEW, "extra": 1}, id="extra-key"),
        pytest.param({"service": "S", "check": "http://x"}, id="check-not-a-mapping"),
        pytest.param([], id="list"),
    ],
)
def test_malformed_bodies_are_422(web: WebEnv, body: Any) -> None:
    before = _snapshot(web)
    answer = web.api().post(web.url + "/api/v1/checks", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"]
    assert _snapshot(web) == before


def test_a_body_that_is_not_json_is_refused(web: WebEnv) -> None:
    answer = web.api().post(
        web.url + "/api/v1/checks", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"


CASES = [
    pytest.param(NEW, id="valid"),
    pytest.param({**NEW, "interval": "fast"}, id="bad-duration"),
    pytest.param({**NEW, "timeout": "30s"}, id="timeout-over-interval"),
    pytest.param({**NEW, "interval": "0.2s"}, id="too-often"),
    pytest.param({**NEW, "metod": "GET"}, id="typo"),
    pytest.param({**NEW, "type": "dnss"}, id="unknown-type"),
    pytest.param({**NEW, "conditions": ["[STATUS] == 200", "[BODY] =="]}, id="bad-condition"),
    pytest.param({"name": "apex", "type": "dns", "query_name": "example.com"}, id="valid-dns"),
    pytest.param({"name": "apex", "type": "dns", "record_type": "AAAA"}, id="dns-missing-name"),
    pytest.param({**NEW, "max_response_time": "500ms"}, id="max-response-time-duration"),
    pytest.param({**NEW, "type": "json", "conditions": ["[DNS_RCODE] == NOERROR"]}, id="unseen"),
]


@pytest.mark.parametrize("check", CASES)
def test_the_api_and_the_config_file_give_the_same_verdict(
    web: WebEnv, check: dict[str, Any]
) -> None:
    document = {
        "defaults": {"interval": "1s", "timeout": "900ms"},  # the agent's, as in conftest
        "services": [{"name": "Same", "checks": [check]}],
    }
    try:
        load_config_text(yaml.safe_dump(document), filename="f.yaml", environ={})
        file_errors: set[tuple[str, str]] = set()
    except ConfigValidationError as exc:
        prefix = "services[0].checks[0]"
        file_errors = {
            (("check" + issue.path[len(prefix) :]), issue.message) for issue in exc.errors
        }
    answer = web.api().post(web.url + "/api/v1/checks", json={"service": "Same", "check": check})
    if not file_errors:
        assert answer.status_code == 201, answer.text
        return
    assert answer.status_code == 422, answer.text
    api_errors = {(e["field"], e["message"]) for e in answer.json()["errors"]}
    assert api_errors == file_errors


def test_replace_changes_an_api_check_and_keeps_its_id(web: WebEnv) -> None:
    api = web.api()
    api.post(web.url + "/api/v1/checks", json={"service": "S", "check": {**NEW, "id": "mine"}})
    changed = {**NEW, "interval": "7s", "url": "http://127.0.0.1:9/other"}
    answer = api.put(web.url + "/api/v1/checks/mine", json={"service": "T", "check": changed})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["id"], body["service"], body["interval"]) == ("mine", "T", 7.0)
    assert web.agent.store.get_check("mine").params["url"] == "http://127.0.0.1:9/other"


def test_replace_refuses_config_checks_unknown_ids_and_a_different_id(web: WebEnv) -> None:
    api = web.api()
    before = _snapshot(web)
    config = api.put(
        web.url + "/api/v1/checks/website.home", json={"service": "Website", "check": NEW}
    )
    assert config.status_code == 409
    assert "read-only" in config.json()["detail"]
    missing = api.put(web.url + "/api/v1/checks/nope", json={"service": "S", "check": NEW})
    assert missing.status_code == 404
    other_id = api.put(
        web.url + "/api/v1/checks/website.home", json={"service": "S", "check": {**NEW, "id": "x"}}
    )
    assert other_id.status_code == 422
    assert other_id.json()["errors"][0]["field"] == "check.id"
    assert _snapshot(web) == before


def test_delete_removes_an_api_check_but_not_a_config_one(web: WebEnv) -> None:
    api = web.api()
    api.post(web.url + "/api/v1/checks", json={"service": "S", "check": {**NEW, "id": "gone"}})
    assert api.delete(web.url + "/api/v1/checks/gone").status_code == 204
    assert web.agent.store.get_check("gone") is None
    assert api.get(web.url + "/api/v1/checks/gone").status_code == 404
    assert api.delete(web.url + "/api/v1/checks/gone").status_code == 404
    refused = api.delete(web.url + "/api/v1/checks/website.home")
    assert refused.status_code == 409
    assert "config file" in refused.json()["detail"]
    assert web.agent.store.get_check("website.home") is not None


def test_pause_and_resume_work_on_config_checks_too(web: WebEnv) -> None:
    api = web.api()
    paused = api.post(web.url + "/api/v1/checks/website.broken/pause")
    assert paused.status_code == 200, paused.text
    assert paused.json()["paused"] is True
    assert paused.json()["state"] in ("paused", "down")
    assert web.agent.store.get_check("website.broken").paused
    assert api.post(web.url + "/api/v1/checks/website.broken/run").status_code == 409
    resumed = api.post(web.url + "/api/v1/checks/website.broken/resume")
    assert resumed.json()["paused"] is False
    assert api.post(web.url + "/api/v1/checks/nope/pause").status_code == 404


def test_run_now_returns_the_result_and_records_it(web: WebEnv) -> None:
    api = web.api()
    before = web.agent.store.count_results("website.home")
    answer = api.post(web.url + "/api/v1/checks/website.home/run")
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["check_id"] == "website.home"
    assert result["outcome"] == "ok"
    assert result["timings"]["total"] > 0
    wait_for(lambda: web.agent.store.count_results("website.home") > before, what="recording")
    assert api.post(web.url + "/api/v1/checks/nope/run").status_code == 404


def test_services_list_get_create_change_delete(web: WebEnv) -> None:
    api = web.api()
    listed = {s["name"]: s for s in api.get(web.url + "/api/v1/services").json()}
    assert listed["Website"]["checks"] == 2
    assert listed["Website"]["labels"] == {"team": "web"}
    created = api.post(web.url + "/api/v1/services", json={"name": "Billing", "group": "core"})
    assert created.status_code == 201, created.text
    assert api.post(web.url + "/api/v1/services", json={"name": "Billing"}).status_code == 409
    changed = api.put(
        web.url + "/api/v1/services/Billing", json={"name": "Billing", "description": "money"}
    )
    assert changed.json()["description"] == "money"
    assert api.get(web.url + "/api/v1/services/Billing").json()["description"] == "money"
    assert api.delete(web.url + "/api/v1/services/Billing").status_code == 204
    assert api.get(web.url + "/api/v1/services/Billing").status_code == 404


def test_services_of_the_config_or_with_checks_cannot_be_changed_or_deleted(web: WebEnv) -> None:
    api = web.api()
    before = _snapshot(web)
    assert (
        api.put(web.url + "/api/v1/services/Website", json={"name": "Website"}).status_code == 409
    )
    assert api.delete(web.url + "/api/v1/services/Website").status_code == 409
    renamed = api.put(web.url + "/api/v1/services/Website", json={"name": "Other"})
    assert renamed.status_code == 422
    assert renamed.json()["errors"][0]["field"] == "name"
    assert api.post(web.url + "/api/v1/services", json={"name": " "}).status_code == 422
    assert api.put(web.url + "/api/v1/services/Nope", json={"name": "Nope"}).status_code == 404
    assert api.delete(web.url + "/api/v1/services/Nope").status_code == 404
    assert _snapshot(web) == before


def test_what_get_answers_can_be_put_back_unchanged_or_edited(web: WebEnv) -> None:
    api = web.api()
    check = {
        **NEW,
        "id": "round",
        "max_response_time": "500ms",
        "conditions": ["[STATUS] == 200"],
        "labels": {"team": "web"},
        "alert": {"retries": 1, "retry_interval": "2s"},
    }
    assert api.post(web.url + "/api/v1/checks", json={"service": "S", "check": check}).ok
    stored_before = web.agent.store.get_check("round")
    shown = api.get(web.url + "/api/v1/checks/round").json()
    assert shown["alert"] == {"retries": 1, "retry_interval": 2.0}

    again = api.put(web.url + "/api/v1/checks/round", json=shown)
    assert again.status_code == 200, again.text
    assert web.agent.store.get_check("round") == stored_before
    unchanged = {k: v for k, v in again.json().items() if k not in ("state", "status")}
    assert unchanged == {k: v for k, v in shown.items() if k not in ("state", "status")}

    edited = {
        **shown,
        "interval": "7s",
        "params": {**shown["params"], "url": "http://127.0.0.1:9/b"},
    }
    answer = api.put(web.url + "/api/v1/checks/round", json=edited)
    assert answer.status_code == 200, answer.text
    stored = web.agent.store.get_check("round")
    assert (stored.interval, stored.params["url"]) == (7.0, "http://127.0.0.1:9/b")
    assert dict(stored.alert) == {"retries": 1, "retry_interval": 2.0}
    assert answer.json()["source"] == "api"


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        pytest.param({"id": "other"}, "id", "expected the id of the URL", id="other-id"),
        pytest.param({"params": {"url": "ftp://x"}}, "params.url", "http://", id="bad-param"),
        pytest.param({"params": {}}, "params", 'missing required key "url"', id="no-url"),
        pytest.param(
            {"params": {"url": "http://x/", "interval": "5s"}},
            "params.interval",
            "a field of the check, not of params",
            id="common-field-in-params",
        ),
        pytest.param({"colour": "red"}, "colour", "unknown key", id="unknown-key"),
        pytest.param({"interval": "often"}, "interval", "expected a duration", id="interval"),
        pytest.param(
            {"type": "dns", "params": {"query_name": "x.test"}},
            "conditions[0]",
            "[STATUS] is never observed by dns checks",
            id="unobservable",
        ),
        pytest.param({"labels": {"team": 1}}, "labels.team", "", id="label"),
    ],
)
def test_a_bad_get_shaped_put_names_the_field_as_get_shows_it_and_changes_nothing(
    web: WebEnv, change: dict[str, Any], field: str, fragment: str
) -> None:
    api = web.api()
    check = {**NEW, "id": "shape", "conditions": ["[STATUS] == 200"]}
    assert api.post(web.url + "/api/v1/checks", json={"service": "S", "check": check}).ok
    shown = api.get(web.url + "/api/v1/checks/shape").json()
    before = _snapshot(web)
    answer = api.put(web.url + "/api/v1/checks/shape", json={**shown, **change})
    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert field in [error["field"] for error in errors], errors
    assert any(fragment in error["message"] for error in errors), errors
    assert _snapshot(web) == before
