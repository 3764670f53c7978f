"""Schemathesis fuzzes every operation of ``/api/v1/openapi.json`` against a running agent:
no answer is a 5xx, and no rejected request (4xx) changes what is stored.

Both valid (positive) and invalid (negative) data are generated, a few dozen examples per
operation and mode so the suite stays quick; the operation that revokes tokens is left out
(it would revoke the fuzzer's own token) and tested on its own in test_auth.py.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from tests.integration.web.conftest import WebEnv

from nyxmon.service_layer.records.catalog import CheckQuery

EXAMPLES = 25
SKIPPED = {("DELETE", "/api/v1/tokens/{token_id}")}


def _stored(env: WebEnv) -> tuple[Any, ...]:
    store = env.agent.store
    checks = tuple(
        (c.id, c.service, c.type, c.interval, c.timeout, c.paused, c.enabled, dict(c.params))
        for c in store.list_checks(CheckQuery(archived=None)).items
    )
    services = tuple(
        (s.name, s.group, s.description, dict(s.labels)) for s in store.list_services()
    )
    tokens = tuple((t.id, t.revoked_at) for t in store.list_tokens())
    return checks, services, tokens, store.count_users()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_fuzzing_the_api_finds_no_server_error_and_rejections_change_nothing(
    web: WebEnv,
) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {web.token('fuzzer')}"
    document = session.get(web.url + "/api/v1/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    server_errors: list[str] = []
    changed_by_rejection: list[str] = []
    tried: set[tuple[str, str]] = set()
    for outcome in schema.get_all_operations():
        operation = outcome.ok()
        key = (operation.method.upper(), operation.path)
        if key in SKIPPED:
            continue
        tried.add(key)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                before = _stored(web)
                response = case.call(base_url=web.url, session=session, timeout=30)
                label = f"{case.method} {case.formatted_path} -> {response.status_code}"
                if response.status_code >= 500:
                    server_errors.append(f"{label}: {response.text[:300]}")
                elif 400 <= response.status_code < 500 and _stored(web) != before:
                    changed_by_rejection.append(label)

            try:
                run()
            except Unsatisfiable:
                if mode is GenerationMode.POSITIVE:
                    raise
                # Nothing in this operation can be made invalid (no parameters, no body).
    assert ("POST", "/api/v1/checks") in tried
    assert len(tried) >= 18
    assert server_errors == []
    assert changed_by_rejection == []
