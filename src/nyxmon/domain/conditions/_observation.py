"""What a probe saw, in the terms the condition language reads."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Missing", "Observation"]

_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class Missing:
    """A value a condition asked for that the observation does not have, with the reason why."""

    reason: str


_NO_QUERY = Missing("no query or command ran")


@dataclass(slots=True)
class Observation:
    """What one probe run saw: the input of every condition of its check.

    Every field is optional because probes differ (a DNS probe has no status, an HTTP probe no
    rcode); a condition that reads a field the probe did not observe fails and says so. The body
    is decoded and parsed as JSON at most once, on first use, so conditions that never look into
    it cost nothing. ``certificate_expiration`` is seconds until the peer certificate expires
    (negative once expired); ``response_time_ms`` is milliseconds, like Gatus's placeholder;
    ``packet_loss`` is the percentage of pings that got no reply; ``value`` is the first value
    a database or broker check's own query returned (a number, text, null or a document);
    ``domain_expiration`` is seconds until the domain's registration expires (from RDAP), or
    None with ``domain_expiration_error`` saying why it is not known.
    ``exit_status`` and ``duration_ms`` are what a push check's ping reported (the job's exit
    status, its run from start to end).
    """

    status: int | None = None
    body: bytes | None = None
    headers: Mapping[str, str] | None = None
    response_time_ms: float | None = None
    connected: bool | None = None
    certificate_expiration: float | None = None
    dns_rcode: str | None = None
    ips: Sequence[str] = ()
    answers: Sequence[str] | None = None
    body_size: int | None = None
    packet_loss: float | None = None
    value: Any = _NO_QUERY
    domain_expiration: float | None = None
    domain_expiration_error: str = "domain expiration not looked up"
    exit_status: int | None = None
    duration_ms: float | None = None
    _text: Any = field(default=_UNSET, init=False, repr=False, compare=False)
    _json: Any = field(default=_UNSET, init=False, repr=False, compare=False)
    _json_error: str = field(default="", init=False, repr=False, compare=False)

    def text(self) -> str | None:
        """The body as text (UTF-8, undecodable bytes replaced), or None without a body."""
        if self._text is _UNSET:
            self._text = None if self.body is None else self.body.decode("utf-8", "replace")
        text: str | None = self._text
        return text

    def json(self) -> Any:
        """The body parsed as JSON.

        Raises ``ValueError`` saying why when there is no body or it is not valid JSON; the
        failure is remembered so a body is never parsed twice.
        """
        if self._json is _UNSET:
            if self.body is None:
                self._json_error = "no body"
            else:
                try:
                    self._json = json.loads(self.body)
                    return self._json
                except ValueError as exc:
                    self._json_error = f"body is not valid JSON ({_short_json_error(exc)})"
                except RecursionError:  # the parser recurses once per level of nesting
                    self._json_error = "body is JSON nested too deeply to read"
            self._json = None
        if self._json_error:
            raise ValueError(self._json_error)
        return self._json

    def size(self) -> int | None:
        """The response size in bytes: ``body_size`` when the probe set it, else the body's."""
        if self.body_size is not None:
            return self.body_size
        return None if self.body is None else len(self.body)

    def header(self, name: str) -> str | None:
        """A response header by case-insensitive name, or None when absent."""
        headers = self.headers
        if headers is None:
            return None
        value = headers.get(name)
        if value is None:
            value = headers.get(name.lower())
        if value is None:
            lowered = name.lower()
            for key, candidate in headers.items():
                if key.lower() == lowered:
                    return candidate
        return value


def _short_json_error(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    return str(exc)
