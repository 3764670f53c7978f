"""Schemathesis holds the running API to its OpenAPI document: the schema is the contract.

A real agent on a real SQLite file, its web plane served by uvicorn on 127.0.0.1, called
over real sockets with an admin token. Every operation gets generated requests, valid
(positive) and invalid (negative), and every answer is judged by schemathesis's checks: no
5xx, every status code and content type declared, bodies and headers as declared, schema-valid
requests accepted and schema-invalid ones refused.

Bounded for CI (a few examples per operation and mode); ``NYXMON_RELIABILITY_LONG=1`` runs many
more. ``DELETE /api/v1/tokens/{token_id}`` is left out: it may revoke the token the run
itself uses, after which every answer is a (correct) 401; revocation has its own tests in
tests/integration/web/test_auth.py.

One check is left out where JSON Schema cannot say what the API accepts: a check's body
(``POST /checks``, ``PUT /checks/{id}``) is judged by the config file's rules as well (the
condition language, URLs and DNS names as their libraries parse them, ``timeout`` below
``interval``), so a body the schema allows may still be refused with a 422 naming the field;
the document says so. Those two operations skip ``positive_data_acceptance`` only; every
other check, ``negative_data_rejection`` included, runs on them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core import NOT_SET

from tests.integration.web.conftest import WebEnv, start_web, target  # noqa: F401

LONG = os.environ.get("NYXMON_RELIABILITY_LONG") == "1"
EXAMPLES = int(os.environ.get("NYXMON_RELIABILITY_EXAMPLES", 300 if LONG else 8))
SKIPPED = {("DELETE", "/api/v1/tokens/{token_id}")}
#: Operations whose bodies carry rules JSON Schema cannot express (see the docstring).
BEYOND_SCHEMA = {("POST", "/api/v1/checks"), ("PUT", "/api/v1/checks/{check_id}")}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    positive_data_acceptance,
    negative_data_rejection,
]


def _sent(case: Any) -> str:
    parts = [f"{k}={v!r}" for k, v in (case.query or {}).items()]
    if case.body is not None and case.body is not NOT_SET:
        parts.append(f"body={case.body!r}"[:400])
    return " ".join(parts)


def _describe(error: BaseException) -> list[str]:
    failures = getattr(error, "exceptions", None) or [error]
    return [
        f"{type(f).__name__}: {getattr(f, 'title', '')} {str(getattr(f, 'message', f))[:300]}"
        for f in failures
    ]


def _fuzz(
    operation: Any,
    mode: GenerationMode,
    call: Callable[[Any], requests.Response],
    failures: dict[str, list[str]],
) -> int:
    """Run ``operation`` with ``EXAMPLES`` generated requests of ``mode``; record failures
    by kind; return how many requests were sent."""
    key = (operation.method.upper(), operation.path)
    label = f"{key[0]} {key[1]}"
    sent = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        nonlocal sent
        sent += 1
        response = call(case)
        excluded = [positive_data_acceptance] if key in BEYOND_SCHEMA else []
        try:
            case.validate_response(response, checks=CHECKS, excluded_checks=excluded)
        except BaseExceptionGroup as error:  # a FailureGroup: keep each kind once
            for line in _describe(error):
                failures.setdefault(f"{label}: {line}", []).append(
                    f"{case.method} {case.formatted_path} {_sent(case)}"
                    f" -> {response.status_code} {response.text[:400]}"
                )

    try:
        run()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        # Nothing in this operation can be made invalid (no parameters, no body).
    return sent


@pytest.mark.slow
@pytest.mark.timeout(3600 if LONG else 300)
def test_the_running_api_keeps_its_openapi_contract(start_web: Callable[..., WebEnv]) -> None:  # noqa: F811
    web = start_web()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {web.token('schemathesis')}"
    document = session.get(web.url + "/api/v1/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    failures: dict[str, list[str]] = {}
    requests_made = 0
    tried: set[tuple[str, str]] = set()

    def call(case: Any) -> requests.Response:
        response: requests.Response = case.call(base_url=web.url, session=session, timeout=30)
        return response

    for outcome in schema.get_all_operations():
        operation = outcome.ok()
        key = (operation.method.upper(), operation.path)
        if key in SKIPPED:
            continue
        tried.add(key)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            requests_made += _fuzz(operation, mode, call, failures)
    print(f"schemathesis: {requests_made} requests, {len(failures)} kinds of failure")
    assert ("PUT", "/api/v1/checks/{check_id}") in tried
    assert requests_made > len(tried)
    report = [
        f"{line}\n    {len(where)}x, e.g. {where[0]}" for line, where in sorted(failures.items())
    ]
    assert not failures, "\n".join(report)
