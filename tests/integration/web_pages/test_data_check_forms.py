"""The dashboard's form adds checks of the database, broker, websocket and grpc types: inputs
from each type's schema, passwords as password inputs, errors next to the field."""

from __future__ import annotations

import pytest
import requests
from tests.integration.web_pages.harness import Running
from tests.integration.web_pages.test_check_forms import api_check, field_errors, form
from tests.servers.data_checks import data_check_params

TYPES = ["amqp", "grpc", "mqtt", "mysql", "nats", "postgres", "redis", "websocket"]


@pytest.mark.parametrize("type_name", TYPES)
def test_a_check_of_each_type_is_added_through_the_form(
    nyx: Running, session: requests.Session, type_name: str
) -> None:
    params = data_check_params(type_name, ws_url="ws://127.0.0.1:9/ws/echo", grpc_port=50051)
    fields = {key: str(value) for key, value in params.items()}
    answer = session.post(
        nyx.url + "/checks/new",
        data=form(session, type=type_name, service="Data", name=type_name, **fields),
        allow_redirects=False,
    )
    assert answer.status_code == 303, field_errors(answer.text)
    check = api_check(nyx, f"data.{type_name}")
    assert check.type == type_name
    for key, value in params.items():
        assert check.params[key] == value


@pytest.mark.parametrize("type_name", ["amqp", "mqtt", "mysql", "nats", "postgres", "redis"])
def test_passwords_are_password_inputs(
    nyx: Running, session: requests.Session, type_name: str
) -> None:
    page = session.get(nyx.url + f"/checks/new?type={type_name}").text
    assert 'id="f-password"' in page
    tag = page[page.index('id="f-password"') - 200 : page.index('id="f-password"') + 200]
    assert 'type="password"' in tag


def test_a_bad_port_is_refused_next_to_the_port_and_nothing_is_saved(
    nyx: Running, session: requests.Session
) -> None:
    answer = session.post(
        nyx.url + "/checks/new",
        data=form(session, type="redis", service="Data", name="cache", host="127.0.0.1", port="0"),
        allow_redirects=False,
    )
    assert answer.status_code == 422
    (message,) = field_errors(answer.text)["f-port"]
    assert message == 'expected a number of at least 1, got "0"'
    assert api_check(nyx, "data.cache") is None
