"""The pieces a condition compares: placeholders, functions of them, patterns and literals.

Each operand is built once by the parser and resolved against every observation; resolution
never raises: what cannot be read becomes a :class:`Missing` carrying the reason.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from nyxmon.domain.conditions._observation import Missing, Observation
from nyxmon.domain.conditions._values import format_duration_ms, render, truncate

__all__ = [
    "PLACEHOLDERS",
    "AnyOf",
    "Has",
    "Len",
    "LiteralValue",
    "Operand",
    "Pattern",
    "PlaceholderInfo",
    "Ref",
    "glob_match",
    "glob_regex",
]

PathSegment = str | int
Getter = Callable[[Observation], Any]

_NOT_OBSERVED = Missing("not observed by this probe")


@dataclass(frozen=True, slots=True)
class PlaceholderInfo:
    """One ``[NAME]`` the language knows: what it reads and whether it takes a path."""

    name: str
    kind: Literal["number", "text", "bool", "duration", "list", "json"]
    path: Literal["none", "json", "header"]
    description: str


PLACEHOLDERS: dict[str, PlaceholderInfo] = {
    info.name: info
    for info in (
        PlaceholderInfo("STATUS", "number", "none", "HTTP status code"),
        PlaceholderInfo("BODY", "json", "json", "response body; [BODY].a.b[0] reads its JSON"),
        PlaceholderInfo("BODY_SIZE", "number", "none", "response size in bytes"),
        PlaceholderInfo("HEADERS", "text", "header", "a response header: [HEADERS].content-type"),
        PlaceholderInfo("RESPONSE_TIME", "number", "none", "response time in milliseconds"),
        PlaceholderInfo("CONNECTED", "bool", "none", "whether a connection was established"),
        PlaceholderInfo(
            "CERTIFICATE_EXPIRATION", "duration", "none", "time until the certificate expires"
        ),
        PlaceholderInfo("DNS_RCODE", "text", "none", "DNS response code (NOERROR, NXDOMAIN...)"),
        PlaceholderInfo("IP", "text", "none", "the first resolved or connected address"),
        PlaceholderInfo("IPS", "list", "none", "every resolved address"),
        PlaceholderInfo("ANSWERS", "list", "none", "every DNS answer, as text"),
        PlaceholderInfo("PACKET_LOSS", "number", "none", "share of pings lost, in percent"),
        PlaceholderInfo(
            "VALUE", "json", "json", "first value of the check's query; [VALUE].a reads JSON"
        ),
        PlaceholderInfo("EXIT_STATUS", "number", "none", "a push check's exit status (0-255)"),
        PlaceholderInfo("DURATION", "duration", "none", "a push check's run, start to end"),
    )
}


def _status(obs: Observation) -> Any:
    return _NOT_OBSERVED if obs.status is None else obs.status


def _body(obs: Observation) -> Any:
    text = obs.text()
    return Missing("no body") if text is None else text.strip()


def _body_size(obs: Observation) -> Any:
    size = obs.size()
    return _NOT_OBSERVED if size is None else size


def _response_time(obs: Observation) -> Any:
    ms = obs.response_time_ms
    if ms is None:
        return _NOT_OBSERVED
    return int(ms) if math.isfinite(ms) else Missing(f"no finite response time ({ms})")


def _connected(obs: Observation) -> Any:
    return _NOT_OBSERVED if obs.connected is None else obs.connected


def _certificate(obs: Observation) -> Any:
    seconds = obs.certificate_expiration
    if seconds is None:
        return Missing("no TLS certificate observed")
    ms = seconds * 1000
    if not math.isfinite(ms):
        return Missing(f"no finite certificate expiration ({seconds})")
    return int(ms)


def _rcode(obs: Observation) -> Any:
    return _NOT_OBSERVED if obs.dns_rcode is None else obs.dns_rcode


def _ip(obs: Observation) -> Any:
    return obs.ips[0] if obs.ips else Missing("no address")


def _ips(obs: Observation) -> Any:
    return list(obs.ips)


def _answers(obs: Observation) -> Any:
    return _NOT_OBSERVED if obs.answers is None else list(obs.answers)


def _packet_loss(obs: Observation) -> Any:
    return _NOT_OBSERVED if obs.packet_loss is None else obs.packet_loss


def _value(obs: Observation) -> Any:
    return obs.value


def _exit_status(obs: Observation) -> Any:
    return Missing("no exit status was reported") if obs.exit_status is None else obs.exit_status


def _duration(obs: Observation) -> Any:
    ms = obs.duration_ms
    if ms is None:
        return Missing("no start ping began this run")
    return int(ms) if math.isfinite(ms) else Missing(f"no finite duration ({ms})")


def _value_document(obs: Observation) -> Any:
    """The query's value as a document: itself, or parsed when it is JSON text (a json column)."""
    value = obs.value
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:
            raise ValueError("[VALUE] is not JSON") from None
    if isinstance(value, Missing):
        raise ValueError(value.reason)
    return value


_SIMPLE_GETTERS: dict[str, Getter] = {
    "STATUS": _status,
    "BODY": _body,
    "BODY_SIZE": _body_size,
    "RESPONSE_TIME": _response_time,
    "CONNECTED": _connected,
    "CERTIFICATE_EXPIRATION": _certificate,
    "DNS_RCODE": _rcode,
    "IP": _ip,
    "IPS": _ips,
    "ANSWERS": _answers,
    "PACKET_LOSS": _packet_loss,
    "VALUE": _value,
    "EXIT_STATUS": _exit_status,
    "DURATION": _duration,
}


def _body_document(obs: Observation) -> Any:
    return obs.json()


def _json_getter(
    path: tuple[PathSegment, ...],
    document: Getter = _body_document,
    root: str = "[BODY]",
) -> Getter:
    def get(obs: Observation) -> Any:
        try:
            value = document(obs)
        except ValueError as exc:
            return Missing(str(exc))
        where = root
        for segment in path:
            if isinstance(segment, int):
                if not isinstance(value, list):
                    return Missing(f"{where} is not an array")
                if not -len(value) <= segment < len(value):
                    return Missing(f"{where} has {len(value)} items, no index {segment}")
                value = value[segment]
                where = f"{where}[{segment}]"
            else:
                if not isinstance(value, dict):
                    return Missing(f"{where} is not an object")
                if segment not in value:
                    return Missing(f'{where} has no key "{segment}"')
                value = value[segment]
                where = f"{where}.{segment}"
        return value

    return get


def _header_getter(name: str) -> Getter:
    def get(obs: Observation) -> Any:
        if obs.headers is None:
            return _NOT_OBSERVED
        value = obs.header(name)
        return Missing(f'no header "{name}"') if value is None else value

    return get


class Operand:
    """Something that resolves to a value for an observation and shows itself in a description."""

    __slots__ = ()
    source: str
    is_literal = False
    kind = "json"

    def resolve(self, obs: Observation) -> Any:
        raise NotImplementedError

    def show(self, value: Any, limit: int = 80) -> str:
        """The operand as written plus, for anything not literal, the value it had."""
        return f"{self.source} ({truncate(render(value), limit)})"


@dataclass(frozen=True, slots=True)
class Ref(Operand):
    """A placeholder, possibly with a JSON path (``[BODY].a[0]``) or header name."""

    source: str
    name: str
    path: tuple[PathSegment, ...]
    getter: Getter
    kind: str

    @classmethod
    def build(cls, source: str, name: str, path: tuple[PathSegment, ...]) -> Ref:
        info = PLACEHOLDERS[name]
        getter: Getter
        if info.path == "header":
            getter = _header_getter(str(path[0]))
        elif path and name == "VALUE":
            getter = _json_getter(path, _value_document, "[VALUE]")
        elif path:
            getter = _json_getter(path)
        else:
            getter = _SIMPLE_GETTERS[name]
        return cls(source, name, path, getter, "json" if path else info.kind)

    def resolve(self, obs: Observation) -> Any:
        return self.getter(obs)

    def show(self, value: Any, limit: int = 80) -> str:
        if self.kind == "duration" and isinstance(value, int | float):
            return f"{self.source} ({format_duration_ms(value)}, {_days_left(value)})"
        return f"{self.source} ({truncate(render(value), limit)})"

    @property
    def checks_existence(self) -> bool:
        """Whether ``has()`` of it asks "is it there" (paths) rather than "is it non-empty"."""
        return bool(self.path)


@dataclass(frozen=True, slots=True)
class Len(Operand):
    """``len(x)``: characters of text, items of an array or object."""

    source: str
    inner: Ref
    kind: str = "number"

    def resolve(self, obs: Observation) -> Any:
        value = self.inner.resolve(obs)
        if isinstance(value, Missing):
            return value
        if self.inner.name == "BODY" and not self.inner.path:
            try:
                document = obs.json()
            except ValueError:
                document = None
            if isinstance(document, list | dict):
                return len(document)
        if isinstance(value, str | list | dict):
            return len(value)
        if value is None:
            return 0
        return len(render(value))


@dataclass(frozen=True, slots=True)
class Has(Operand):
    """``has(x)``: true when a path or header exists, or a plain placeholder is non-empty."""

    source: str
    inner: Ref
    kind: str = "bool"

    def resolve(self, obs: Observation) -> Any:
        value = self.inner.resolve(obs)
        if isinstance(value, Missing):
            return False
        if self.inner.checks_existence:
            return True
        return value not in ("", [], None)


@dataclass(frozen=True, slots=True)
class LiteralValue(Operand):
    """A constant as written: ``200``, ``UP``, ``"quoted text"``, ``48h``."""

    source: str
    value: Any
    is_literal = True
    kind: str = "literal"

    def resolve(self, obs: Observation) -> Any:
        return self.value

    def show(self, value: Any, limit: int = 80) -> str:
        return self.source


def _days_left(ms: float) -> str:
    """``9.9 days left`` or ``expired 2.0 days ago``: what a certificate-expiry condition is
    about, in the unit people renew certificates in (rounded down while time is left)."""
    days = ms / 86_400_000
    if days <= -1:
        return f"expired {math.floor(-days * 10) / 10:.1f} days ago"
    if days < 0:
        return "expired less than a day ago"
    if days < 1:
        return "less than a day left"
    return f"{math.floor(days * 10) / 10:.1f} days left"


def glob_regex(glob: str) -> re.Pattern[str]:
    """A compiled regex for a ``pat()`` glob: ``*`` any run, ``?`` one character, rest literal.

    Kept to describe the glob; matching goes through :func:`glob_match`, because a regex of
    several ``.*`` backtracks for a time that grows with the body to the power of the stars.
    """
    parts = [".*" if char == "*" else "." if char == "?" else re.escape(char) for char in glob]
    return re.compile("".join(parts), re.DOTALL)


def glob_match(glob: str, text: str) -> bool:
    """Whether ``text`` matches ``glob`` whole, in time about linear in ``text``.

    The pieces between stars are found left to right, each at its first place after the one
    before (which is always right for globs): no backtracking, whatever the glob.
    """
    pieces = glob.split("*")
    if len(pieces) == 1:
        return len(text) == len(glob) and _piece_at(glob, text, 0)
    first, *middle, last = pieces
    end = len(text) - len(last)
    if end < len(first) or not _piece_at(first, text, 0) or not _piece_at(last, text, end):
        return False
    position = len(first)
    for piece in middle:
        if piece:
            found = _find_piece(piece, text, position, end)
            if found < 0:
                return False
            position = found + len(piece)
    return True


def _piece_at(piece: str, text: str, start: int) -> bool:
    if "?" not in piece:
        return text.startswith(piece, start)
    return _piece_regex(piece).match(text, start, start + len(piece)) is not None


def _find_piece(piece: str, text: str, start: int, end: int) -> int:
    if "?" not in piece:
        return text.find(piece, start, end)
    found = _piece_regex(piece).search(text, start, end)
    return -1 if found is None else found.start()


@functools.lru_cache(maxsize=256)
def _piece_regex(piece: str) -> re.Pattern[str]:
    return re.compile("".join("." if char == "?" else re.escape(char) for char in piece), re.DOTALL)


@dataclass(frozen=True, slots=True)
class Pattern(Operand):
    """``pat(glob)``: matches the other side of ``==`` / ``!=`` against a glob."""

    source: str
    glob: str
    regex: re.Pattern[str]
    is_literal = True
    kind: str = "pattern"

    def resolve(self, obs: Observation) -> Any:
        return self

    def show(self, value: Any, limit: int = 80) -> str:
        return self.source

    def matches(self, value: Any) -> bool:
        return not isinstance(value, Missing) and glob_match(self.glob, render(value))


@dataclass(frozen=True, slots=True)
class AnyOf(Operand):
    """``any(a, b, ...)``: the other side of ``==`` / ``!=`` equals one of the options."""

    source: str
    options: tuple[LiteralValue, ...]
    is_literal = True
    kind: str = "any"

    def resolve(self, obs: Observation) -> Any:
        return self

    def show(self, value: Any, limit: int = 80) -> str:
        return self.source
