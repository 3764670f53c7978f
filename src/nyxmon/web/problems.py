"""Errors as RFC 9457 problem details (``application/problem+json``) that name the field.

Every error the web plane answers goes through here, so an API client always gets the same
shape: ``type``, ``title``, ``status``, ``detail``, ``instance`` and, for bad input, ``errors``:
``[{"field": "check.url", "message": "expected a URL like https://example.com/, got 5"}]``
with the config file's wording. Unexpected exceptions become a bare 500 whose details go to
the log, never to the client. Browsers asking for HTML get a small error page instead.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, get_args, get_origin

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from nyxmon.config import ConfigValidationError, format_path
from nyxmon.config.messages import describe_error
from nyxmon.domain.redaction import redact
from nyxmon.errors import (
    CheckNotFoundError,
    ConfigError,
    ConflictError,
    NyxmonError,
    ServiceNotFoundError,
    StoreError,
)
from nyxmon.runtime import ConcurrencyError

__all__ = [
    "PROBLEM_JSON",
    "FieldError",
    "LoginRequired",
    "Problem",
    "install_problem_handlers",
    "problem_response",
    "validation_errors",
]

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
_TYPE_BASE = "urn:nyxmon:problem:"

FieldError = dict[str, str]

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class Problem(Exception):
    """Raise from a route or dependency to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        title: str | None = None,
        errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind
        self.title = title or _TITLES.get(status, "Error")
        self.errors = list(errors)
        self.headers = dict(headers or {})


class LoginRequired(Exception):
    """A page needs a signed-in user: browsers are sent to the login page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def problem_response(
    request: Request,
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    title: str | None = None,
    errors: Sequence[FieldError] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": _TYPE_BASE + kind if kind else "about:blank",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": redact(detail),
        "instance": request.url.path,
    }
    if errors:  # a message may quote a value: never one of the secrets this process holds
        body["errors"] = [{**e, "message": redact(e.get("message", ""))} for e in errors]
    if _wants_html(request):
        return _html_error(request, status, body, headers)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/events", "/metrics", "/badge", "/uptime", "/latency")):
        return False
    return "text/html" in request.headers.get("accept", "")


def _html_error(
    request: Request, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None
) -> Response:
    templates = getattr(request.app.state, "templates", None)
    if templates is None:
        return JSONResponse(dict(body), status_code=status, headers=headers)
    response: Response = templates.TemplateResponse(
        request, "error.html", {"problem": body}, status_code=status, headers=headers
    )
    return response


def validation_errors(exc: RequestValidationError, body_type: Any = None) -> list[FieldError]:
    """FastAPI's errors as ``field``/``message`` pairs in the config file's terms.

    The body's location prefix is dropped (``check.url``, not ``body.check.url``) and so is
    the check type pydantic adds inside the discriminated check union; query and path
    parameters keep theirs (``query.limit``).
    """
    out: list[FieldError] = []
    for error in exc.errors():
        loc = tuple(error.get("loc", ()))
        where, rest = (loc[0], loc[1:]) if loc else ("body", ())
        body_root = body_type
        if where == "body" and rest and _is_shape_tag(rest[0]):
            # A body of several shapes (a PUT) names the shape first; users never wrote it.
            body_root = _tagged_member(body_type, str(rest[0]))
            rest = rest[1:]
        shown = list(rest)
        # The discriminated check union puts the type name into the location; users never
        # wrote it, so it goes (the config loader does the same).
        for index, part in enumerate(shown[:-1]):
            if part == "check" and _is_check_type(shown[index + 1]):
                del shown[index + 1]
                break
        path: tuple[str | int, ...] = tuple(shown)
        if where != "body":
            path = (str(where), *path)
        root: Any = body_root if where == "body" else None
        relative = tuple(rest)
        if where == "body" and relative[:1] == ("check",):
            # Errors inside a check are judged against the check union itself, as the
            # config file does, so unknown types list the known ones.
            from nyxmon.config import check_config_type

            root, relative = check_config_type(), relative[1:]
        try:
            shown_path, message = describe_error(
                error, root, relative, path if path else ("body",), None
            )
        except Exception:
            shown_path, message = path, str(error.get("msg", "invalid value"))
        if error.get("type") == "missing" and len(relative) == 2 and _is_check_type(relative[0]):
            message += f' (check type "{relative[0]}" needs it)'
        out.append({"field": format_path(shown_path) if shown_path else "body", "message": message})
    return out


def _is_shape_tag(part: object) -> bool:
    return isinstance(part, str) and part.startswith("shape:")


def _tagged_member(union: Any, tag: str) -> Any:
    """The member of a tagged union (``Annotated[A, Tag(...)] | ...``) carrying ``tag``."""
    for member in get_args(_strip_annotated(union)):
        args = get_args(member)
        if any(getattr(meta, "tag", None) == tag for meta in args[1:]):
            return args[0]
    return None


def _strip_annotated(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _is_check_type(name: object) -> bool:
    from nyxmon.config.checks import check_models

    try:
        return isinstance(name, str) and name in check_models()
    except Exception:
        return False


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error the app can raise as a problem document (or an HTML error page)."""

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem_response(
            request,
            exc.status,
            exc.detail,
            kind=exc.kind,
            title=exc.title,
            errors=exc.errors,
            headers=exc.headers,
        )

    async def on_login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(exc.next_url, safe='/')}", status_code=303)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        route = request.scope.get("route")
        body_field = getattr(route, "body_field", None)
        body_type = body_field.field_info.annotation if body_field is not None else None
        errors = validation_errors(exc, body_type)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem_response(request, 422, detail, kind="validation", errors=errors)

    async def on_config_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ConfigValidationError)
        errors = [{"field": issue.path or "body", "message": issue.message} for issue in exc.errors]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem_response(request, 422, detail, kind="validation", errors=errors)

    async def on_nyxmon(request: Request, exc: Exception) -> Response:
        if isinstance(exc, CheckNotFoundError):
            return problem_response(request, 404, str(exc), kind="check-not-found")
        if isinstance(exc, ServiceNotFoundError):
            return problem_response(request, 404, str(exc), kind="service-not-found")
        if isinstance(exc, ConflictError):
            return problem_response(request, 409, str(exc), kind="conflict")
        if isinstance(exc, ConfigError):
            return problem_response(request, 422, str(exc), kind="validation")
        if isinstance(exc, StoreError):
            log.error("store error answering %s %s: %s", request.method, request.url.path, exc)
            return problem_response(
                request, 503, "the store could not answer; try again", kind="store"
            )
        log.error("error answering %s %s: %s", request.method, request.url.path, exc)
        return problem_response(request, 500, "internal error", kind="internal")

    async def on_timeout(request: Request, exc: Exception) -> Response:
        return problem_response(
            request, 504, "the agent did not answer in time; try again", kind="timeout"
        )

    async def on_concurrency(request: Request, exc: Exception) -> Response:
        log.warning("agent unavailable answering %s: %s", request.url.path, exc)
        return problem_response(
            request, 503, "the agent is stopping or not running", kind="agent-unavailable"
        )

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "")
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"nothing at {request.url.path}"
        headers = dict(exc.headers) if exc.headers else None
        return problem_response(request, exc.status_code, detail, headers=headers)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error answering %s %s", request.method, request.url.path)
        return problem_response(request, 500, "internal error", kind="internal")

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(LoginRequired, on_login_required)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(ConfigValidationError, on_config_validation)
    app.add_exception_handler(NyxmonError, on_nyxmon)
    app.add_exception_handler(TimeoutError, on_timeout)
    app.add_exception_handler(ConcurrencyError, on_concurrency)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
