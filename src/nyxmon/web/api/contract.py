"""The OpenAPI document as a contract: every answer an operation can give is declared.

FastAPI documents each route's success answer and a 422 in its own shape; the API answers
more than that, and its errors are RFC 9457 problems (``application/problem+json``, see
:mod:`nyxmon.web.problems`). :func:`contract_openapi` completes FastAPI's document so that
a client (or schemathesis, ``tests/reliability/test_api_schema.py``) can rely on it:

- every error answer of every operation under ``/api/v1`` is a ``Problem`` in
  ``application/problem+json``: 401 and 403 (credentials, CSRF, scope) and 503 everywhere,
  404 where the path names something, 422 where there is a parameter or a body, 400 where a
  body may not be JSON at all, and whatever a route declares itself with :func:`problems`
  (409, 504, ...);
- the security schemes (an API token in ``Authorization: Bearer``, or the session cookie),
  each operation naming the token scope it needs (``read`` for GET and HEAD, else ``admin``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from nyxmon.service_layer.records.accounts import READ_METHODS
from nyxmon.web.problems import PROBLEM_JSON

__all__ = ["PROBLEM_SCHEMA", "contract_openapi", "install_contract", "problems"]

_API = "/api/v1/"
_REF = {"$ref": "#/components/schemas/Problem"}

#: What each status means when a route does not say more.
_MEANING: Mapping[int, str] = {
    400: "The body is not JSON at all (not UTF-8, or cut off).",
    401: "No credentials, or an unknown or revoked token.",
    403: "A missing CSRF token (session callers), or a token whose scope does not cover "
    "the operation (a read token changing something).",
    404: "Nothing of that id or name.",
    409: "It conflicts with what is stored (it exists already, it comes from the config "
    "file, it is paused, ...).",
    422: "A parameter or the body is invalid; `errors` names each field.",
    503: "The store or the agent cannot answer now (stopping, or its store is unavailable).",
    504: "The agent did not answer in time; try again.",
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem detail; `errors` names each invalid field.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "description": "`urn:nyxmon:problem:<kind>` or about:blank"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "the path of the request"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": "string", "description": "like check.url, query.limit"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}

_SECURITY_SCHEMES: dict[str, Any] = {
    "apiToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (`nyxmon token create NAME --scope read|admin`, or "
        "`POST /api/v1/tokens`). A `read` token may use GET and HEAD only; an `admin` token "
        "every operation. Each operation lists the scope it needs.",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "nyxmon_session",
        "description": "A signed-in user (the dashboard's session cookie) may do everything; "
        "changes also need the `X-CSRF-Token` header (`GET /api/v1/me` gives it).",
    },
}


def problems(*statuses: int, **meanings: str) -> dict[int | str, dict[str, Any]]:
    """A route's ``responses=`` for error answers beyond the ones every route has, with what
    they mean here (``problems(409, s409="it comes from the config file")``)."""
    return {
        status: {"description": meanings.get(f"s{status}", _MEANING.get(status, "An error."))}
        for status in statuses
    }


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": _REF}}}


def _complete(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    implied = [401, 403, 503]
    if "{" in path:
        implied.append(404)
    if operation.get("parameters") or operation.get("requestBody"):
        implied.append(422)
    if operation.get("requestBody"):
        implied.append(400)
    for code in implied:
        responses.setdefault(str(code), {"description": _MEANING[code]})
    for key, answer in list(responses.items()):
        if key.isdigit() and int(key) >= 400:
            description = answer.get("description") or _MEANING.get(int(key), "An error.")
            if key == "422" and description == "Validation Error":
                description = _MEANING[422]
            responses[key] = _problem(description)
    scope = "read" if method.upper() in READ_METHODS else "admin"
    operation["security"] = [{"apiToken": [scope]}, {"session": []}]
    operation["x-token-scope"] = scope


def contract_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document for ``app``, completed as the module docstring says."""
    document = copy.deepcopy(
        get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
    )
    for path, methods in document.get("paths", {}).items():
        if not path.startswith(_API):
            continue
        for method, operation in methods.items():
            if isinstance(operation, dict) and method.upper() in _HTTP_METHODS:
                _complete(path, method, operation)
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["Problem"] = PROBLEM_SCHEMA
    components["securitySchemes"] = _SECURITY_SCHEMES
    _drop_unreferenced(document)
    return document


_HTTP_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"})


def _drop_unreferenced(document: dict[str, Any]) -> None:
    """Leave out component schemas no operation reaches (FastAPI's validation error shapes)."""
    schemas: dict[str, Any] = document["components"]["schemas"]
    text = repr(document["paths"])
    reached: set[str] = set()
    pending = set(re.findall(r"#/components/schemas/([^'\"]+)", text))
    while pending:
        name = pending.pop()
        if name in reached or name not in schemas:
            continue
        reached.add(name)
        pending |= set(re.findall(r"#/components/schemas/([^'\"]+)", repr(schemas[name])))
    for name in list(schemas):
        if name not in reached:
            del schemas[name]


def install_contract(app: FastAPI) -> None:
    """Serve :func:`contract_openapi` as ``app.openapi()`` (built once, then kept)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = contract_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
