"""Write-only secrets in check params: shown as a mask, kept when the mask comes back.

A check type marks its secret params fields in its params schema (:func:`nyxmon.checktypes.
base.secret`): a password or token as a whole ``value``, the user, password and query values
of a ``url``, the values of credential-like ``headers``. Every answer that shows a check (the
REST API, the dashboard, ``nyxmon check show/list``) shows :func:`mask_params` instead of the
params; a check written back with a mask where a secret was keeps the stored secret
(:func:`restore_params`), so ``PUT`` takes back exactly what ``GET`` answered, while a new
value replaces the old one.

One rule guards the stored secrets against being sent elsewhere: a mask is only restored while
the check's URL still points at the same origin (scheme, host and port). Whoever moves a check
to another host gives its secrets again.
"""

from __future__ import annotations

import functools
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel

from nyxmon.checktypes.base import SECRET, SecretKind

__all__ = [
    "MASK",
    "MaskedSecretError",
    "SecretField",
    "is_secret_header",
    "mask_check_params",
    "mask_params",
    "mask_url_secrets",
    "restore_check_params",
    "restore_params",
    "secret_fields",
]

MASK = "********"
"""What an answer shows in place of a secret; given back, it means "keep the stored one"."""

_KINDS: Mapping[Any, SecretKind] = {"value": "value", "url": "url", "headers": "headers"}
_SECRET_HEADER = re.compile(
    r"auth|token|secret|key|passw|cookie|session|signature|credential", re.IGNORECASE
)
_SECRET_KEY = re.compile(r"passw|token|secret|api_?key|authorization|credential", re.IGNORECASE)


class MaskedSecretError(ValueError):
    """A mask that cannot be restored; ``field`` is its dotted path in the params."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class SecretField:
    """A secret field of a params model: its path (``("basic_auth", "password")``) and kind."""

    path: tuple[str, ...]
    kind: SecretKind

    @property
    def name(self) -> str:
        return ".".join(self.path)


def is_secret_header(name: str) -> bool:
    """Whether a header's value is a credential (``Authorization``, ``X-Api-Key``, ...)."""
    return _SECRET_HEADER.search(name) is not None


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if get_origin(annotation) in (Union, types.UnionType):
        for arg in get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
        return None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


@functools.cache
def secret_fields(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> tuple[SecretField, ...]:
    """Every field ``model`` (and the models nested in it) marks secret (worked out once)."""
    found: list[SecretField] = []
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra
        kind = extra.get(SECRET) if isinstance(extra, dict) else None
        if kind in _KINDS:
            found.append(SecretField((*prefix, name), _KINDS[kind]))
            continue
        nested = _model_of(info.annotation)
        if nested is not None:
            found.extend(secret_fields(nested, (*prefix, name)))
    return tuple(found)


# -- masking ---------------------------------------------------------------------------------------
def _query_items(query: str) -> list[tuple[str | None, str]]:
    """``(key, value)`` of each ``&``-separated item; a bare item is all value, key None."""
    items: list[tuple[str | None, str]] = []
    for item in query.split("&"):
        key, sep, value = item.partition("=")
        items.append((key, value) if sep else (None, item))
    return items


def _join_query(items: list[tuple[str | None, str]]) -> str:
    return "&".join(value if key is None else f"{key}={value}" for key, value in items)


def mask_url_secrets(url: str) -> str:
    """``url`` with its user, password and query values masked (path and host shown)."""
    return _mask_url(url)


def _mask_url(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if at:
        user, colon, password = userinfo.partition(":")
        userinfo = (MASK if user else "") + colon + (MASK if password else "")
    items = _query_items(parts.query) if parts.query else []
    query = _join_query([(key, MASK if value else value) for key, value in items])
    return urlunsplit((parts.scheme, userinfo + at + hostport, parts.path, query, parts.fragment))


def _mask_headers(headers: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: MASK if is_secret_header(str(name)) and value not in (None, "") else value
        for name, value in headers.items()
    }


def _mask(kind: SecretKind, value: Any) -> Any:
    if kind == "url":
        return _mask_url(value) if isinstance(value, str) else value
    if kind == "headers":
        return _mask_headers(value) if isinstance(value, Mapping) else value
    return MASK if value not in (None, "") else value


def _mask_unknown(params: Mapping[str, Any]) -> dict[str, Any]:
    """A type nobody declared: mask what sounds secret, and every URL's credentials."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, Mapping):
            out[key] = (
                _mask_headers(value) if "header" in str(key).lower() else _mask_unknown(value)
            )
        elif _SECRET_KEY.search(str(key)) and value not in (None, ""):
            out[key] = MASK
        elif isinstance(value, str) and "://" in value:
            out[key] = _mask_url(value)
        else:
            out[key] = value
    return out


def _get(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = data
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _set(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    target = data
    for part in path[:-1]:
        inner = target.get(part)
        if not isinstance(inner, Mapping):
            return
        target[part] = dict(inner)
        target = target[part]
    target[path[-1]] = value


def mask_params(model: type[BaseModel] | None, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` as they may be shown: every secret of ``model``'s fields masked (a type
    without a model: whatever sounds secret)."""
    if model is None:
        return _mask_unknown(params)
    out = dict(params)
    for field in secret_fields(model):
        value = _get(params, field.path)
        if value is not None:
            _set(out, field.path, _mask(field.kind, value))
    return out


# -- restoring ------------------------------------------------------------------------------------
def _origin(url: Any) -> tuple[str, str, int | None] | None:
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), port or default


_NONE_STORED = (
    "the mask ******** stands for a stored secret, and there is none here: give the value"
)


class _Restorer:
    def __init__(self, field: SecretField, moved: str | None) -> None:
        self.field = field
        self.moved = moved
        self.restored = False

    def keep(self, stored: Any, key: str = "", what: str = "") -> Any:
        """The stored secret for a mask at this field (``key``: a header's name; ``what``:
        which part of a URL)."""
        name = f"{self.field.name}.{key}" if key else self.field.name
        if stored in (None, "") or stored == MASK:
            raise MaskedSecretError(name, what + _NONE_STORED)
        if self.moved is not None:
            raise MaskedSecretError(name, what + self.moved)
        self.restored = True
        return stored

    def value(self, given: Any, stored: Any) -> Any:
        return self.keep(stored) if given == MASK else given

    def headers(self, given: Any, stored: Any) -> Any:
        if not isinstance(given, Mapping):
            return given
        old = {str(k).lower(): v for k, v in stored.items()} if isinstance(stored, Mapping) else {}
        return {
            name: self.keep(old.get(str(name).lower()), key=str(name)) if value == MASK else value
            for name, value in given.items()
        }

    def url(self, given: Any, stored: Any) -> Any:
        if not isinstance(given, str) or MASK not in given:
            return given
        if isinstance(stored, str) and given == _mask_url(stored):
            return self.keep(stored)  # as GET showed it: the stored URL, byte for byte
        parts = urlsplit(given)
        old = urlsplit(stored) if isinstance(stored, str) else urlsplit("")
        userinfo, at, hostport = parts.netloc.rpartition("@")
        if at:
            user, colon, password = userinfo.partition(":")
            user = self.keep(old.username, what="its user: ") if user == MASK else user
            password = (
                self.keep(old.password, what="its password: ") if password == MASK else password
            )
            userinfo = user + colon + password
        stored_items = _query_items(old.query) if old.query else []
        seen: dict[str | None, int] = {}
        items: list[tuple[str | None, str]] = []
        for key, value in _query_items(parts.query) if parts.query else []:
            index = seen.get(key, 0)
            seen[key] = index + 1
            if value == MASK:
                same = [v for k, v in stored_items if k == key]
                stored_value = same[index] if index < len(same) else None
                value = self.keep(stored_value, what=f"the query value of {key or '?'}: ")
            items.append((key, value))
        netloc = userinfo + at + hostport
        return urlunsplit((parts.scheme, netloc, parts.path, _join_query(items), parts.fragment))


def _moved(
    model: type[BaseModel], given: Mapping[str, Any], stored: Mapping[str, Any]
) -> str | None:
    """Why no mask may be restored (the URL now points elsewhere), or None."""
    for field in secret_fields(model):
        if field.kind != "url":
            continue
        before = _origin(_get(stored, field.path))
        after = _origin(_get(given, field.path))
        if before is not None and after is not None and before != after:
            scheme, host, port = before
            return (
                f"the stored secret belongs to {scheme}://{host}:{port} and the check now "
                "points elsewhere: give the secret again to send it to the new address"
            )
    return None


def restore_params(
    model: type[BaseModel] | None, given: Mapping[str, Any], stored: Mapping[str, Any] | None
) -> dict[str, Any]:
    """``given`` with each mask replaced by the stored secret it stands for.

    Raises :class:`MaskedSecretError` (naming the field) for a mask with nothing stored behind
    it (a new check, a secret that was never set) or while the URL points at another origin.
    """
    out = dict(given)
    if model is None:
        return out
    stored = stored or {}
    moved = _moved(model, given, stored)
    for field in secret_fields(model):
        value = _get(given, field.path)
        if value is None:
            continue
        restorer = _Restorer(field, moved)
        old = _get(stored, field.path)
        if field.kind == "url":
            new = restorer.url(value, old)
        elif field.kind == "headers":
            new = restorer.headers(value, old)
        else:
            new = restorer.value(value, old)
        _set(out, field.path, new)
    return out


def _declared(type_name: str) -> type[BaseModel] | None:
    from nyxmon.checktypes import CHECK_TYPES

    declared = CHECK_TYPES.get(type_name)
    return declared.params if declared is not None else None


def mask_check_params(type_name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`mask_params` with the declared params model of the check type ``type_name``."""
    return mask_params(_declared(type_name), params)


def restore_check_params(
    type_name: str, given: Mapping[str, Any], stored: Mapping[str, Any] | None
) -> dict[str, Any]:
    """:func:`restore_params` with the declared params model of ``type_name``."""
    return restore_params(_declared(type_name), given, stored)
