"""Pydantic's validation errors, retold as ``file:line: key.path: expected X, got Y``.

Pydantic knows what was expected; the YAML document knows where each key is. This module joins
the two and rewrites the wording in the config file's terms: "mapping" not "dictionary", YAML
spellings of values, a did-you-mean for an unknown key, a "quote it" for a bare ``1`` where
text was expected.
"""

from __future__ import annotations

import types
from collections.abc import Collection, Mapping, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from nyxmon.config._text import CUSTOM_ERROR_PREFIX, did_you_mean, format_path, show
from nyxmon.config.issues import ConfigIssue
from nyxmon.config.loader import KeyPath, YamlDocument

__all__ = ["describe_error", "fields_at", "issues_from_validation_error"]

_SIMPLE: dict[str, str] = {
    "string_type": "expected a string",
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "set_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "none_required": "expected nothing (null)",
}
_BOUNDS: dict[str, str] = {
    "greater_than": "expected a number greater than {gt}",
    "greater_than_equal": "expected a number of at least {ge}",
    "less_than": "expected a number less than {lt}",
    "less_than_equal": "expected a number of at most {le}",
    "string_too_short": "expected at least {min_length} characters",
    "string_too_long": "expected at most {max_length} characters",
    "too_short": "expected at least {min_length} items",
    "too_long": "expected at most {max_length} items",
    "literal_error": "expected one of {expected}",
    "enum": "expected one of {expected}",
    "string_pattern_mismatch": "expected text matching {pattern}",
}
_URL_ERRORS = frozenset(
    {"url_type", "url_parsing", "url_syntax_violation", "url_too_long", "url_scheme"}
)
_PREFIXES = ("Value error, ", "Assertion failed, ")


def issues_from_validation_error(
    exc: ValidationError,
    *,
    root_type: Any,
    prefix: KeyPath = (),
    document: YamlDocument | None = None,
    filename: str | None = None,
    tag: str | None = None,
) -> list[ConfigIssue]:
    """One issue per pydantic error of validating data at ``prefix`` against ``root_type``.

    ``tag`` is the check type when ``root_type`` is the discriminated check union: pydantic puts
    it into every error location and the user never wrote it, so it is dropped from paths.
    """
    issues: list[ConfigIssue] = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        shown = loc[1:] if tag is not None and loc[:1] == (tag,) else loc
        path, message = describe_error(error, root_type, loc, (*prefix, *shown), document)
        if tag is not None and error["type"] == "missing" and len(shown) == 1:
            message += f" (check type {show(tag)} needs it)"
        line = document.line_of(path) if document is not None else None
        issues.append(ConfigIssue(filename, line, format_path(path), message))
    return issues


def describe_error(
    error: ErrorDetails,
    root_type: Any,
    loc: KeyPath,
    path: KeyPath,
    document: YamlDocument | None,
) -> tuple[KeyPath, str]:
    """The key path to report and the message for one pydantic error."""
    kind = error["type"]
    value = error.get("input")
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    got = f", got {show(value)}"
    if kind == "missing":
        return path[:-1], f"missing required key {show(path[-1])}"
    if kind == "extra_forbidden":
        key = str(path[-1])
        allowed = fields_at(root_type, loc[:-1]) or ()
        guess = did_you_mean(key, allowed)
        if guess is not None:
            return path, f"unknown key {show(key)}; did you mean {show(guess)}?"
        listed = ", ".join(sorted(allowed))
        return path, f"unknown key {show(key)}" + (f"; expected one of: {listed}" if listed else "")
    if kind == "union_tag_invalid":
        return (*path, "type"), _unknown_type(str(ctx.get("tag", value)), root_type)
    if kind == "union_tag_not_found":
        known = ", ".join(_tags(root_type))
        return path, f'missing required key "type" (one of: {known})'
    if kind in _SIMPLE:
        message = _SIMPLE[kind] + got
        raw = document.plain_scalars.get(path) if document is not None else None
        if kind == "string_type" and raw is not None:
            message += f" (quote it: {show(raw)})"
        return path, message
    if kind in _BOUNDS:
        return path, _BOUNDS[kind].format(**ctx) + got
    if kind.startswith(CUSTOM_ERROR_PREFIX):
        return path, error["msg"]
    if kind == "url_scheme":
        return path, f"expected a URL with scheme {ctx.get('expected_schemes', 'http')}{got}"
    if kind in _URL_ERRORS:
        reason = f" ({ctx['error']})" if "error" in ctx else ""
        return path, f"expected a URL like https://example.com/{reason}{got}"
    message = error["msg"]
    for known_prefix in _PREFIXES:
        message = message.removeprefix(known_prefix)
    scalar = not isinstance(value, dict | list | tuple)
    mentioned = "got" in message or str(value) in message
    if kind in ("value_error", "assertion_error") and scalar and not mentioned:
        message += got
    return path, message


def _unknown_type(name: str, root_type: Any) -> str:
    known = _tags(root_type)
    guess = did_you_mean(name, known)
    hint = f"; did you mean {show(guess)}?" if guess else ""
    return f"unknown check type {show(name)}{hint} (known types: {', '.join(known)})"


def _tags(union: Any) -> list[str]:
    tags: list[str] = []
    for member in _members(_unwrap(union)):
        field = member.model_fields.get("type")
        if field is not None and get_origin(field.annotation) is Literal:
            tags.extend(str(arg) for arg in get_args(field.annotation))
    return sorted(tags)


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [arg for arg in get_args(tp) if arg is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _members(tp: Any) -> list[type[BaseModel]]:
    if get_origin(tp) in (Union, types.UnionType):
        return [arg for arg in get_args(tp) if isinstance(arg, type) and issubclass(arg, BaseModel)]
    return [tp] if isinstance(tp, type) and issubclass(tp, BaseModel) else []


def fields_at(root_type: Any, loc: Sequence[str | int]) -> Collection[str] | None:
    """The keys allowed in the mapping at ``loc`` (a pydantic location) under ``root_type``."""
    tp = _unwrap(root_type)
    for part in loc:
        origin = get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
            field = _keys(tp).get(part)
            if field is None:
                return None
            tp = field.annotation
        elif origin in (list, tuple, set, Sequence) and isinstance(part, int):
            tp = get_args(tp)[0] if get_args(tp) else Any
        elif origin in (dict, Mapping) and isinstance(part, str):
            tp = get_args(tp)[1] if get_args(tp) else Any
        elif origin in (Union, types.UnionType) and isinstance(part, str):
            matches = [m for m in _members(tp) if part in _tags(m)]
            if not matches:
                return None
            tp = matches[0]
        else:
            return None
        tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(_keys(tp))
    return None


def _keys(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """A model's fields by the key written in the file (its alias, like ``from``, if any)."""
    return {field.alias or name: field for name, field in model.model_fields.items()}
