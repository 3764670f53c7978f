"""The ``http`` check type's parameters: one HTTP(S) request, judged by status, keywords and
conditions (the probe: :mod:`nyxmon.probes.http`)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from yarl import URL

from nyxmon.checktypes.base import CheckType, SpecModel, secret
from nyxmon.checktypes.booleans import Boolean
from nyxmon.checktypes.durations import PositiveDuration

__all__ = ["HTTP", "HTTP_OBSERVES", "MAX_BODY_BYTES", "MAX_JSON_DEPTH", "BasicAuth", "HttpSpec"]

_RANGE_RE = re.compile(r"^\s*([1-5]\d\d)\s*-\s*([1-5]\d\d)\s*$")
_CLASS_RE = re.compile(r"^\s*([1-5])xx\s*$", re.IGNORECASE)
MAX_BODY_BYTES = 64 * 1_048_576
"""The most body a probe may read (64 MiB): conditions see that much, held in memory."""
MAX_JSON_DEPTH = 32
"""Lists and objects inside each other in ``json_body`` at most: the API's JSON arrives
parsed, and a value nested thousands deep would break every later step that recurses (the
config file's composer bounds the file's nesting the same way)."""


class BasicAuth(SpecModel):
    """HTTP basic authentication credentials."""

    username: str = Field(min_length=1, description="user name")
    password: str = Field(
        "",
        description="password (may come from an environment variable); write-only",
        json_schema_extra=secret(),
    )


def _status_item(item: int | str) -> int | str:
    if isinstance(item, int):
        if not 100 <= item <= 599:
            raise ValueError(f"status {item} is not between 100 and 599")
        return item
    text = item.strip()
    if text.isdigit():
        return _status_item(int(text))
    if match := _CLASS_RE.match(text):
        low = int(match.group(1)) * 100
        return f"{low}-{low + 99}"
    if match := _RANGE_RE.match(text):
        low, high = int(match.group(1)), int(match.group(2))
        if low > high:
            raise ValueError(f"status range {text!r} runs backwards")
        return f"{low}-{high}"
    raise ValueError(f"{item!r} is not a status, a range like '200-299' or a class like '2xx'")


class HttpSpec(SpecModel):
    """Params of an ``http`` check."""

    url: str = Field(
        description="http:// or https:// URL to request; its user, password and query values "
        "are write-only",
        json_schema_extra=secret("url"),
    )
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = Field(
        "GET", description="HTTP method"
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="extra request headers; values of credential headers (Authorization, "
        "X-Api-Key, Cookie, ...) are write-only",
        json_schema_extra=secret("headers"),
    )
    body: str | None = Field(None, description="request body, sent as is")
    json_body: Any = Field(None, description="request body sent as JSON (instead of body)")
    basic_auth: BasicAuth | None = Field(None, description="basic auth credentials")
    bearer_token: str | None = Field(
        None,
        description="sent as 'Authorization: Bearer <token>'; write-only",
        json_schema_extra=secret(),
    )
    expected_status: list[int | str] | None = Field(
        None,
        description="accepted statuses: codes, ranges ('200-299') or classes ('2xx'); "
        "default 200-399 unless a condition reads [STATUS]",
    )
    keyword: str | None = Field(None, description="text the body must contain")
    keyword_absent: str | None = Field(None, description="text the body must not contain")
    keyword_case_sensitive: Boolean = Field(True, description="match keywords case-sensitively")
    follow_redirects: Boolean = Field(True, description="follow 3xx redirects")
    max_redirects: int = Field(10, ge=0, le=50, description="redirects followed at most")
    verify_tls: Boolean = Field(True, description="verify the server certificate and host name")
    ca_file: str | None = Field(
        None, description="PEM file of CAs to trust instead of the system's"
    )
    max_response_time: PositiveDuration | None = Field(
        None, description="a passing run slower than this is degraded: 500ms, 2s (or seconds)"
    )
    keep_alive: Boolean = Field(
        False, description="reuse connections between runs (then connect/TLS are not measured)"
    )
    max_body_bytes: int = Field(
        1_048_576,
        ge=0,
        le=MAX_BODY_BYTES,
        description="read at most this many body bytes (conditions see these)",
    )
    retries: int = Field(
        0,
        ge=0,
        le=10,
        description="in-run retries of a request that could not connect or got a "
        "retry_status_codes answer: one result with its attempts (not alert.retries)",
    )
    retry_status_codes: list[int] = Field(
        default_factory=lambda: [502, 503, 504],
        description="statuses worth another attempt within the run",
    )
    retry_backoff: PositiveDuration = Field(
        0.2, description="wait before the first in-run retry; doubled before each next one"
    )

    @field_validator("method", mode="before")
    @classmethod
    def _upper_method(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        try:
            url = URL(value)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not a URL: {exc}") from None
        if url.scheme not in ("http", "https"):
            raise ValueError("must start with http:// or https://")
        if not url.host:
            raise ValueError("has no host")
        return value

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, header in value.items():
            if not name.strip() or any(c in name for c in " :\r\n"):
                raise ValueError(f"{name!r} is not a header name")
            if "\r" in header or "\n" in header:
                raise ValueError(f"header {name!r} contains a line break")
        return value

    @field_validator("json_body")
    @classmethod
    def _check_json_depth(cls, value: Any) -> Any:
        stack: list[tuple[Any, int]] = [(value, 0)]
        while stack:  # a loop, not a recursion: the value may be nested past Python's limit
            item, depth = stack.pop()
            if isinstance(item, dict | list):
                if depth >= MAX_JSON_DEPTH:
                    raise ValueError(
                        f"nested more than {MAX_JSON_DEPTH} lists and objects deep; flatten it"
                    )
                children = item.values() if isinstance(item, dict) else item
                stack.extend((child, depth + 1) for child in children)
        return value

    @field_validator("retry_status_codes")
    @classmethod
    def _check_retry_statuses(cls, value: list[int]) -> list[int]:
        for code in value:
            if not 100 <= code <= 599:
                raise ValueError(f"status {code} is not between 100 and 599")
        return value

    @field_validator("expected_status")
    @classmethod
    def _check_statuses(cls, value: list[int | str] | None) -> list[int | str] | None:
        return None if value is None else [_status_item(item) for item in value]

    @model_validator(mode="after")
    def _check_combinations(self) -> HttpSpec:
        if self.basic_auth is not None and self.bearer_token is not None:
            raise ValueError("basic_auth and bearer_token exclude each other")
        if self.body is not None and self.json_body is not None:
            raise ValueError("body and json_body exclude each other")
        if self.ca_file is not None and not self.verify_tls:
            raise ValueError("ca_file has no effect with verify_tls: false")
        return self

    def status_ranges(self) -> tuple[tuple[int, int], ...] | None:
        """Accepted statuses as inclusive ranges; None when only the conditions decide."""
        if self.expected_status is None:
            return None
        ranges = []
        for item in self.expected_status:
            if isinstance(item, int):
                ranges.append((item, item))
            else:
                low, high = item.split("-")
                ranges.append((int(low), int(high)))
        return tuple(ranges)


HTTP_OBSERVES = frozenset(
    {
        "STATUS",
        "BODY",
        "BODY_SIZE",
        "HEADERS",
        "RESPONSE_TIME",
        "CONNECTED",
        "CERTIFICATE_EXPIRATION",
        "DOMAIN_EXPIRATION",
        "IP",
        "IPS",
    }
)

HTTP = CheckType(
    name="http",
    params=HttpSpec,
    observes=HTTP_OBSERVES,
    executor="nyxmon.probes.http:create_executor",
    summary="an HTTP(S) request: status, body keywords, timings, certificate",
)
