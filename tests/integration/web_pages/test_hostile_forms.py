"""Hostile values typed into the check form: the file's bounds hold, each message sits next to
its field, and nothing is saved."""

from __future__ import annotations

import pytest
import requests
from tests.integration.web_pages.harness import Running
from tests.integration.web_pages.test_check_forms import api_check, field_errors, form


@pytest.mark.parametrize(
    ("fields", "field_id", "fragment"),
    [
        pytest.param(
            {"interval": "99999999999999999999999999999d"},
            "f-interval",
            "expected a duration of at most 365d",
            id="interval",
        ),
        pytest.param({"interval": "1" + "0" * 400}, "f-interval", "at most 365d", id="digits"),
        pytest.param({"timeout": "25h"}, "f-timeout", "at most 1d", id="timeout"),
        pytest.param(
            {"method": "POST", "json_body": "[" * 40 + "]" * 40},
            "f-json_body",
            "nested more than 32",
            id="nested-json",
        ),
        pytest.param(
            {"method": "POST", "json_body": "[" * 100_000 + "]" * 100_000},
            "f-json_body",
            "nested too deeply",
            id="json-past-the-parser",
        ),
    ],
)
def test_hostile_form_values_are_refused_at_their_field_and_nothing_is_saved(
    nyx: Running, session: requests.Session, fields: dict[str, str], field_id: str, fragment: str
) -> None:
    data = form(session, service="Shop", name="hostile", url="http://127.0.0.1:9/", **fields)
    data.setdefault("interval", "5s")
    answer = session.post(nyx.url + "/checks/new", data=data, allow_redirects=False)
    assert answer.status_code == 422, answer.text[:500]
    errors = field_errors(answer.text)
    assert any(fragment in message for message in errors.get(field_id, [])), errors
    assert api_check(nyx, "shop.hostile") is None
