"""Adding and editing checks through the dashboard's forms: messages next to the field, the
config file's verdicts, nothing saved by a rejected form, config checks read-only."""

from __future__ import annotations

import html as htmllib
import re
from typing import Any

import pytest
import requests
from tests.integration.web_pages.harness import Running, wait_for
from tests.servers.http_target import ThreadedHttpTarget

from nyxmon.checktypes import params_models as check_types


def field_errors(page: str) -> dict[str, list[str]]:
    """The messages shown next to each input, by input id (f-url, f-alert-retries, ...)."""
    found: dict[str, list[str]] = {}
    for match in re.finditer(r'<div id="(f-[^"]+)-error">(.*?)</div>', page, re.S):
        messages = re.findall(r'<p class="field-error">(.*?)</p>', match.group(2), re.S)
        found[match.group(1)] = [htmllib.unescape(m) for m in messages]
    return found


def form(session: requests.Session, **fields: str) -> dict[str, str]:
    return {"csrf_token": session.csrf, "type": "http", "enabled": "true", **fields}  # type: ignore[attr-defined]


def api_check(nyx: Running, check_id: str) -> Any:
    return nyx.agent.store.get_check(check_id)


@pytest.mark.parametrize("type_name", sorted(check_types()))
def test_the_new_check_form_has_labelled_inputs_for_its_type(
    nyx: Running, session: requests.Session, type_name: str
) -> None:
    page = session.get(nyx.url + f"/checks/new?type={type_name}")
    assert page.status_code == 200
    html = page.text
    assert 'name="csrf_token"' in html
    assert f'<option value="{type_name}" selected>' in html
    for input_id in re.findall(r'<(?:input|select|textarea) id="(f-[^"]+)"', html):
        assert f'<label for="{input_id}"' in html, f"{input_id} has no label"
    for key, field in check_types()[type_name].model_fields.items():
        if field.is_required():
            assert f'name="{key}"' in html


def test_switching_the_type_keeps_the_common_inputs(
    nyx: Running, session: requests.Session
) -> None:
    page = session.get(nyx.url + "/checks/new?type=dns&name=apex&service=DNS&interval=1m").text
    assert 'name="query_name"' in page
    assert 'name="url"' not in page
    assert 'name="name" value="apex"' in page
    assert 'value="DNS"' in page
    assert 'value="1m"' in page
    assert session.get(nyx.url + "/checks/new?type=nonsense").status_code == 200


def test_switching_the_type_drops_conditions_the_new_type_never_observes_and_says_so(
    nyx: Running, session: requests.Session
) -> None:
    conditions = "[STATUS] == 200\n[RESPONSE_TIME] < 500\n[BODY].ok == true"
    page = session.get(
        nyx.url + "/checks/new", params={"type": "dns", "name": "apex", "conditions": conditions}
    ).text
    kept = re.search(r'<textarea id="f-conditions"[^>]*>(.*?)</textarea>', page, re.S)
    assert kept is not None
    assert htmllib.unescape(kept.group(1)).strip() == "[RESPONSE_TIME] < 500"
    notice = re.search(r'<p class="notice warn" role="status" id="form-notice">(.*?)</p>', page)
    assert notice is not None, page
    text = htmllib.unescape(notice.group(1))
    assert text.startswith("Removed 2 conditions a dns check can never pass: [STATUS] == 200")
    assert "[BODY] is never observed by dns checks" in text
    back = session.get(
        nyx.url + "/checks/new", params={"type": "http", "conditions": conditions}
    ).text
    assert 'id="form-notice"' not in back


def test_a_condition_the_type_never_observes_is_refused_next_to_the_conditions(
    nyx: Running, session: requests.Session
) -> None:
    answer = session.post(
        nyx.url + "/checks/new",
        data=form(
            session,
            type="dns",
            service="DNS",
            name="apex",
            query_name="example.test",
            conditions="[RESPONSE_TIME] < 500\n[STATUS] == 200",
        ),
        allow_redirects=False,
    )
    assert answer.status_code == 422
    (message,) = field_errors(answer.text)["f-conditions"]
    assert message.startswith("line 2: [STATUS] is never observed by dns checks (they observe")
    assert api_check(nyx, "dns.apex") is None


def test_a_bad_url_is_reported_next_to_the_field_and_nothing_is_saved(
    nyx: Running, session: requests.Session
) -> None:
    answer = session.post(
        nyx.url + "/checks/new",
        data=form(session, service="Shop", name="cart", url="not a url", interval="5s"),
        allow_redirects=False,
    )
    assert answer.status_code == 422
    errors = field_errors(answer.text)
    assert errors == {"f-url": ['must start with http:// or https://, got "not a url"']}
    assert 'aria-describedby="f-url-help f-url-error" aria-invalid="true" autofocus' in answer.text
    assert 'value="not a url"' in answer.text  # what was typed stays
    assert 'name="service" value="Shop"' in answer.text or 'value="Shop"' in answer.text
    assert api_check(nyx, "shop.cart") is None


def test_several_problems_are_reported_at_once_each_at_its_field(
    nyx: Running, session: requests.Session
) -> None:
    answer = session.post(
        nyx.url + "/checks/new",
        data=form(
            session,
            service="",
            name="",
            url="http://127.0.0.1:9/",
            headers="X-Ok: 1\nbroken line",
            conditions="[STATUS] == 200\n[STATUS] ==",
            **{"alert.retries": "many", "max_redirects": "500"},
        ),
    )
    assert answer.status_code == 422
    errors = field_errors(answer.text)
    assert set(errors) == {
        "f-service",
        "f-name",
        "f-headers",
        "f-conditions",
        "f-alert-retries",
        "f-max_redirects",
    }
    assert errors["f-headers"] == ["line 2: expected 'name: value', got 'broken line'"]
    assert errors["f-conditions"][0].startswith("line 2: invalid condition")
    assert errors["f-alert-retries"] == ['expected an integer, got "many"']
    assert "6 fields need attention" in answer.text


def test_the_file_s_cross_key_rules_apply_to_forms_too(
    nyx: Running, session: requests.Session
) -> None:
    answer = session.post(
        nyx.url + "/checks/new",
        data=form(
            session,
            service="Shop",
            name="slow",
            url="http://127.0.0.1:9/",
            interval="1s",
            timeout="5s",
        ),
    )
    assert answer.status_code == 422
    assert field_errors(answer.text) == {
        "f-timeout": ["expected a timeout shorter than the check's interval (1s), got 5s"]
    }
    assert api_check(nyx, "shop.slow") is None


def test_a_form_without_the_csrf_token_is_refused(nyx: Running, session: requests.Session) -> None:
    fresh = requests.Session()
    fresh.cookies.update(session.cookies)
    data = {"type": "http", "service": "Shop", "name": "sneaky", "url": "http://127.0.0.1:9/"}
    answer = fresh.post(nyx.url + "/checks/new", data=data, allow_redirects=False)
    assert answer.status_code == 403
    assert api_check(nyx, "shop.sneaky") is None


def test_a_valid_check_is_added_runs_and_can_be_edited(
    nyx: Running, session: requests.Session, target: ThreadedHttpTarget
) -> None:
    answer = session.post(
        nyx.url + "/checks/new",
        data=form(
            session,
            service="Shop",
            name="front page",
            url=target.url("/health"),
            interval="1s",
            timeout="800ms",
            conditions="[STATUS] == 200",
            labels="team: shop",
            headers="X-Probe: nyxmon",
        ),
        allow_redirects=False,
    )
    assert answer.status_code == 303, field_errors(answer.text)
    assert answer.headers["location"] == "/checks/shop.front-page?done=created"
    check = api_check(nyx, "shop.front-page")
    assert check is not None
    assert check.source.value == "api"
    assert dict(check.labels) == {"team": "shop"}
    assert check.params["headers"] == {"X-Probe": "nyxmon"}
    wait_for(
        lambda: (
            (s := nyx.agent.control.statuses().get("shop.front-page")) is not None
            and s.state == "up"
        ),
        what="the new check to be up",
    )
    page = session.get(nyx.url + answer.headers["location"])
    assert "Check created" in page.text

    # Adding it again: the id is taken, said next to the name.
    again = session.post(
        nyx.url + "/checks/new",
        data=form(session, service="Shop", name="front page", url=target.url("/health")),
    )
    assert again.status_code == 422
    assert field_errors(again.text)["f-name"] == [
        "a check with the id 'shop.front-page' exists already: choose another name (or set an id)"
    ]

    edit = session.get(nyx.url + "/checks/shop.front-page/edit")
    assert edit.status_code == 200
    assert "X-Probe: nyxmon</textarea>" in edit.text
    assert 'name="interval" value="1s"' in edit.text
    saved = session.post(
        nyx.url + "/checks/shop.front-page/edit",
        data=form(
            session,
            service="Shop",
            name="front page",
            url=target.url("/health"),
            method="HEAD",
            interval="2s",
            timeout="1s",
        ),
        allow_redirects=False,
    )
    assert saved.status_code == 303, field_errors(saved.text)
    changed = api_check(nyx, "shop.front-page")
    assert changed.params["method"] == "HEAD"
    assert changed.interval == 2.0
    assert dict(changed.labels) == {}  # emptied inputs unset what they held

    bad = session.post(
        nyx.url + "/checks/shop.front-page/edit",
        data=form(session, service="Shop", name="front page", url="gopher://x"),
    )
    assert bad.status_code == 422
    assert "f-url" in field_errors(bad.text)
    assert api_check(nyx, "shop.front-page").params["method"] == "HEAD"


def test_config_checks_are_shown_read_only_and_cannot_be_saved(
    nyx: Running, session: requests.Session
) -> None:
    page = session.get(nyx.url + "/checks/website.home/edit")
    assert page.status_code == 200
    assert "comes from the config file" in page.text
    assert "<fieldset disabled>" in page.text
    assert "Save changes" not in page.text
    before = api_check(nyx, "website.home")
    answer = session.post(
        nyx.url + "/checks/website.home/edit",
        data=form(session, service="Website", name="home", url="http://127.0.0.1:9/"),
    )
    assert answer.status_code == 409
    assert "read-only here" in answer.text
    assert api_check(nyx, "website.home") == before


def test_editing_an_unknown_check_is_a_404_page(nyx: Running, session: requests.Session) -> None:
    answer = session.get(nyx.url + "/checks/no.such/edit", headers={"Accept": "text/html"})
    assert answer.status_code == 404
    assert "no.such" in answer.text
