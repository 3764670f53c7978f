"""Secrets in check params are write-only (issue 13, item 6): every answer shows a mask, and
the probe keeps using the secret after a GET -> PUT round trip.

A real agent on a SQLite file probes a real aiohttp target that demands each kind of
credential (basic auth as params and in the URL, a bearer token, an API key header, an API
key in the query). Every answer a token holder, a browser or the CLI can get is read as raw
bytes and searched for the secrets.
"""

from __future__ import annotations

import html as htmllib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from tests.integration.web.conftest import WebEnv, wait_for
from tests.servers.http_target import HttpTarget, ThreadedHttpTarget

from nyxmon.checktypes.secrets import MASK

USER = "userSECRETalpha42"
PASSWORD = "pwSECRETbravo42"
TOKEN = "tokSECRETcharlie42"
KEY = "keySECRETdelta42"
SECRETS = (PASSWORD, TOKEN, KEY)


@pytest.fixture(scope="module")
def target() -> Iterator[HttpTarget]:
    with ThreadedHttpTarget() as running:
        running.state.username = USER
        running.state.password = PASSWORD
        running.state.token = TOKEN
        running.state.api_key = KEY
        yield running


def _checks(target: HttpTarget) -> dict[str, dict[str, Any]]:
    host = f"{target.host}:{target.port}"
    return {
        "basic": {
            "url": target.url("/basic-auth"),
            "basic_auth": {"username": USER, "password": PASSWORD},
        },
        "inurl": {"url": f"http://{USER}:{PASSWORD}@{host}/basic-auth"},
        "bearer": {"url": target.url("/bearer"), "bearer_token": TOKEN},
        "header": {
            "url": target.url("/api-key"),
            "headers": {"X-Api-Key": KEY, "Accept": "text/plain"},
        },
        "query": {"url": target.url(f"/api-key?apikey={KEY}&lang=en")},
    }


def _clean(body: bytes | str, where: str) -> None:
    raw = body.encode() if isinstance(body, str) else body
    leaked = [secret for secret in SECRETS if secret.encode() in raw]
    assert leaked == [], f"{where} shows {leaked}"


def _ok_after_a_run(api: requests.Session, web: WebEnv, check_id: str) -> dict[str, Any]:
    answer = api.post(web.url + f"/api/v1/checks/{check_id}/run", timeout=60)
    assert answer.status_code == 200, answer.text
    _clean(answer.content, f"POST /checks/{check_id}/run")
    result: dict[str, Any] = answer.json()
    return result


def _cli(web: WebEnv, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "nyxmon", *args, "--db", str(web.folder / "nyxmon.db")],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "250"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def _form_of(page: str) -> dict[str, str]:
    """What a browser submits for the check form as the page shows it."""
    start = page.index('<form id="check-form"')
    form = page[start : page.index("</form>", start)]
    data: dict[str, str] = {}
    for match in re.finditer(r"<input ([^>]*)>", form):
        attrs = match.group(1)
        name = re.search(r'\bname="([^"]*)"', attrs)
        if name is None or ("checkbox" in attrs and " checked" not in attrs):
            continue
        value = re.search(r'\bvalue="([^"]*)"', attrs)
        data[name.group(1)] = htmllib.unescape(value.group(1)) if value else ""
    for match in re.finditer(r'<textarea [^>]*name="([^"]*)"[^>]*>(.*?)</textarea>', form, re.S):
        data[match.group(1)] = htmllib.unescape(match.group(2))
    for match in re.finditer(r'<select [^>]*name="([^"]*)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', match.group(2))
        data[match.group(1)] = chosen.group(1) if chosen else ""
    return data


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_secrets_are_write_only_in_every_answer_and_survive_a_get_put_round_trip(
    start_web: Callable[..., WebEnv], target: HttpTarget
) -> None:
    web = start_web()
    api = web.api()
    ids = []
    for name, params in _checks(target).items():
        body = {"service": "Vault", "check": {"name": name, "type": "http", **params}}
        created = api.post(web.url + "/api/v1/checks", json=body)
        assert created.status_code == 201, created.text
        _clean(created.content, f"POST {name}")
        ids.append(created.json()["id"])

    def all_ok() -> bool:
        checks = api.get(web.url + "/api/v1/checks?service=Vault").json()["items"]
        return len(checks) == 5 and all(
            (c["status"] or {}).get("last_outcome") == "ok" for c in checks
        )

    wait_for(all_ok, timeout=30, what="every credentialed check to pass")

    # Every answer a token holder gets.
    listed = api.get(web.url + "/api/v1/checks")
    _clean(listed.content, "GET /checks")
    for check_id in ids:
        for path in ("", "/results", "/history", "/incidents", "/uptime", "/series"):
            answer = api.get(web.url + f"/api/v1/checks/{check_id}{path}")
            assert answer.status_code == 200, answer.text
            _clean(answer.content, f"GET /checks/{check_id}{path}")
    shown = {c["name"]: c["params"] for c in listed.json()["items"] if c["service"] == "Vault"}
    assert shown["basic"]["basic_auth"] == {"username": USER, "password": MASK}
    assert shown["inurl"]["url"] == f"http://{MASK}:{MASK}@{target.host}:{target.port}/basic-auth"
    assert shown["bearer"]["bearer_token"] == MASK
    assert shown["header"]["headers"] == {"X-Api-Key": MASK, "Accept": "text/plain"}
    assert shown["query"]["url"].endswith(f"/api-key?apikey={MASK}&lang={MASK}")
    for path in ("/api/v1/openapi.json", "/api/v1/incidents", "/api/v1/services"):
        _clean(api.get(web.url + path).content, path)
    with api.get(web.url + "/events?snapshot=true", stream=True, timeout=10) as stream:
        _clean(next(stream.iter_content(65536)), "/events")

    # The CLI, JSON and tables.
    _clean(_cli(web, "check", "list", "--json"), "check list --json")
    for check_id in ids:
        _clean(_cli(web, "check", "show", check_id, "--json"), f"check show {check_id} --json")
        _clean(_cli(web, "check", "show", check_id), f"check show {check_id}")

    # GET -> PUT as it is: the stored secrets stay, and the probe still passes with them.
    for check_id in ids:
        got = api.get(web.url + f"/api/v1/checks/{check_id}").json()
        put = api.put(web.url + f"/api/v1/checks/{check_id}", json=got)
        assert put.status_code == 200, put.text
        _clean(put.content, f"PUT {check_id}")
        assert put.json()["params"] == got["params"]
        assert _ok_after_a_run(api, web, check_id)["outcome"] == "ok", check_id
    stored = {c: web.agent.store.get_check(c) for c in ids}
    assert stored["vault.basic"].params["basic_auth"]["password"] == PASSWORD
    assert stored["vault.inurl"].params["url"] == _checks(target)["inurl"]["url"]
    assert stored["vault.query"].params["url"] == _checks(target)["query"]["url"]
    assert stored["vault.header"].params["headers"]["X-Api-Key"] == KEY

    # A new value replaces the secret (the target then refuses it).
    got = api.get(web.url + "/api/v1/checks/vault.bearer").json()
    got["params"]["bearer_token"] = "not-the-token"
    assert api.put(web.url + "/api/v1/checks/vault.bearer", json=got).status_code == 200
    assert web.agent.store.get_check("vault.bearer").params["bearer_token"] == "not-the-token"
    assert _ok_after_a_run(api, web, "vault.bearer")["outcome"] != "ok"


def test_a_mask_with_no_secret_behind_it_or_sent_to_another_host_is_refused(
    start_web: Callable[..., WebEnv], target: HttpTarget
) -> None:
    web = start_web()
    api = web.api()
    body = {"service": "Vault", "check": {"name": "basic", "type": "http"}}
    body["check"].update(_checks(target)["basic"])
    assert api.post(web.url + "/api/v1/checks", json=body).status_code == 201

    masked = {"service": "Vault", "check": {"name": "other", "type": "http"}}
    masked["check"].update(_checks(target)["basic"])
    masked["check"]["basic_auth"] = {"username": USER, "password": MASK}
    refused = api.post(web.url + "/api/v1/checks", json=masked)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "check.basic_auth.password"
    assert web.agent.store.get_check("vault.other") is None

    got = api.get(web.url + "/api/v1/checks/vault.basic").json()
    got["params"]["url"] = got["params"]["url"].replace("127.0.0.1", "127.0.0.2")
    moved = api.put(web.url + "/api/v1/checks/vault.basic", json=got)
    assert moved.status_code == 422, moved.text
    problem = moved.json()
    assert problem["errors"][0]["field"] == "params.basic_auth.password"
    assert "points elsewhere" in problem["errors"][0]["message"]
    _clean(moved.content, "the refusal")
    assert web.agent.store.get_check("vault.basic").params["url"] == target.url("/basic-auth")

    got["params"]["basic_auth"]["password"] = PASSWORD  # given again: accepted
    assert api.put(web.url + "/api/v1/checks/vault.basic", json=got).status_code == 200


@pytest.mark.slow
def test_pages_never_carry_a_secret_and_the_edit_form_keeps_it(
    start_web: Callable[..., WebEnv], target: HttpTarget
) -> None:
    web = start_web()
    api = web.api()
    for name in ("basic", "header", "query"):
        body = {"service": "Vault", "check": {"name": name, "type": "http"}}
        body["check"].update(_checks(target)[name])
        assert api.post(web.url + "/api/v1/checks", json=body).status_code == 201
    browser = web.login()
    _clean(browser.get(web.url + "/").content, "the overview")
    for check_id in ("vault.basic", "vault.header", "vault.query"):
        _clean(browser.get(web.url + f"/checks/{check_id}").content, f"/checks/{check_id}")
        edit = browser.get(web.url + f"/checks/{check_id}/edit")
        assert edit.status_code == 200
        _clean(edit.content, f"/checks/{check_id}/edit")
        data = _form_of(edit.text)
        assert MASK in json.dumps(data)
        saved = browser.post(web.url + f"/checks/{check_id}/edit", data=data, allow_redirects=False)
        assert saved.status_code == 303, saved.text[-2000:]
        assert _ok_after_a_run(api, web, check_id)["outcome"] == "ok", check_id
    assert web.agent.store.get_check("vault.basic").params["basic_auth"]["password"] == PASSWORD
    assert web.agent.store.get_check("vault.header").params["headers"]["X-Api-Key"] == KEY
