"""The pieces a condition compares: placeholders, functions of them, patterns and literals.

Each operand is built once by the parser and resolved against every observation; resolution
never raises: what cannot be read becomes a :class:`Missing` carrying the reason.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from nyxmon.domain.conditions._glob import Glob, compile_glob
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
        PlaceholderInfo(
            "DOMAIN_EXPIRATION", "duration", "none", "time until the domain registration expires"
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


def _domain(obs: Observation) -> Any:
    seconds = obs.domain_expiration
    if seconds is None:
        return Missing(obs.domain_expiration_error)
    return int(seconds * 1000) if math.isfinite(seconds) else Missing("no finite expiration")


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
    "DOMAIN_EXPIRATION": _domain,
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
    """``len(x)``, as Gatus counts: the items of an array; the characters of text, of a number
    or boolean as written, and of an object as compact JSON (``{"a":1}`` is 7). A body written
    as a JSON array counts its items, any other body its characters (JSON or not); a null is
    missing, as Gatus finds nothing to count."""

    source: str
    inner: Ref
    kind: str = "number"

    def resolve(self, obs: Observation) -> Any:
        value = self.inner.resolve(obs)
        if isinstance(value, Missing):
            return value
        if self.inner.name == "BODY" and not self.inner.path:
            return _body_length(obs)
        if isinstance(value, list):
            return len(value)
        if isinstance(value, dict):
            return len(_compact_json(value))
        if value is None:
            return Missing(f"{self.inner.source} is null")
        if isinstance(value, str):
            return len(value)
        return len(render(value))


def _body_length(obs: Observation) -> Any:
    """Gatus's ``len([BODY])``: items when the body is a JSON array, else its characters."""
    text = obs.text()
    if text is None:
        return Missing("no body")
    if text.startswith("[") and text.endswith("]"):
        try:
            document = obs.json()
        except ValueError:
            return len(text.strip())
        if isinstance(document, list):
            return len(document)
    return len(text)


def _compact_json(value: Any) -> str:
    """An object as Go's ``json.Marshal`` writes it: compact, keys sorted."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    except (RecursionError, TypeError):
        return render(value)


@dataclass(frozen=True, slots=True)
class Has(Operand):
    """``has(x)``: true when a path or header holds a value (a JSON null counts as absent, as in
    Gatus), or a plain placeholder is non-empty."""

    source: str
    inner: Ref
    kind: str = "bool"

    def resolve(self, obs: Observation) -> Any:
        value = self.inner.resolve(obs)
        if isinstance(value, Missing):
            return False
        if self.inner.checks_existence:
            return value is not None
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
    """The regex a ``pat()`` glob stands for (after Gatus's removal of ``/``), to describe it."""
    return compile_glob(glob).regex


def glob_match(glob: str, text: str) -> bool:
    """Whether ``text`` matches ``glob`` whole, as Gatus decides it (see :mod:`._glob`)."""
    return compile_glob(glob).matches(text)


@dataclass(frozen=True, slots=True)
class Pattern(Operand):
    """``pat(glob)``: matches the other side of ``==`` / ``!=`` against a glob."""

    source: str
    glob: str
    compiled: Glob
    is_literal = True
    kind: str = "pattern"

    def resolve(self, obs: Observation) -> Any:
        return self

    def show(self, value: Any, limit: int = 80) -> str:
        return self.source

    def matches(self, value: Any) -> bool:
        return not isinstance(value, Missing) and self.compiled.matches(render(value))


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
