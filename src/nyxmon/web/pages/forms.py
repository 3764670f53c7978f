"""Form fields generated from the check models, and the way back from a submitted form.

A check type's form comes from its pydantic params model (the probe registry's), merged with
the common check fields, so a new check type gets a form without a template: each field's
annotation picks a widget (text, number, duration, select, checkbox, lines, key: value
lines, JSON) and its description becomes the help text. A submitted form becomes the same
JSON-like mapping the YAML file holds, which :func:`nyxmon.config.validate_check` judges;
its issues are attached back to the fields they name (``conditions[1]`` -> ``conditions``,
line 2).
"""

from __future__ import annotations

import json
import re
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from nyxmon.config import CheckBase, ConfigIssue, is_duration, spell_duration

__all__ = [
    "COMMON_HELP",
    "CheckFormSpec",
    "FormErrors",
    "FormField",
    "attach_issues",
    "check_form",
    "fields_of",
    "form_values",
    "parse_form",
]

Kind = Literal[
    "text",
    "password",
    "textarea",
    "number",
    "duration",
    "select",
    "tristate",
    "checkbox",
    "lines",
    "csv",
    "mapping",
    "json",
]

_WORDS = {"url": "URL", "tls": "TLS", "ca": "CA", "json": "JSON", "id": "ID", "dns": "DNS",
          "ip": "IP", "http": "HTTP", "rcode": "rcode"}  # fmt: skip
_SECRET = re.compile(r"password|token|secret", re.IGNORECASE)
_INDEX = re.compile(r"^\[(\d+)\]")
_MISSING = re.compile(r'missing required key "([^"]+)"')
_MAX_TEXT = 100_000


@dataclass(frozen=True, slots=True)
class FormField:
    """One input of a check form; ``name`` is the key path (``basic_auth.username``)."""

    name: str
    label: str
    kind: Kind
    help: str = ""
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    group: str = ""

    @property
    def input_id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.name)

    @property
    def wide(self) -> bool:
        return self.kind in ("textarea", "lines", "mapping", "json")


def _label(name: str, prefix: str = "") -> str:
    text = " ".join(_WORDS.get(word, word) for word in name.split("_"))
    return f"{prefix}{text}" if prefix else text[:1].upper() + text[1:]


def _strip_optional(tp: Any) -> tuple[Any, bool]:
    if get_origin(tp) in (Union, types.UnionType):
        args = get_args(tp)
        rest = tuple(arg for arg in args if arg is not type(None))
        if len(rest) < len(args):
            return (rest[0] if len(rest) == 1 else Union.__getitem__(rest)), True
    return tp, False


def _kind(name: str, tp: Any, optional: bool) -> tuple[Kind, tuple[str, ...]]:
    if get_origin(tp) is Annotated:
        if is_duration(tp):
            return "duration", ()
        tp = get_args(tp)[0]
    if tp is bool:
        return ("tristate" if optional else "checkbox"), ()
    if get_origin(tp) is Literal:
        return "select", tuple(str(choice) for choice in get_args(tp))
    if tp in (int, float):
        return "number", ()
    if tp is str:
        if _SECRET.search(name):
            return "password", ()
        return ("textarea" if name.endswith("body") else "text"), ()
    origin = get_origin(tp)
    if origin is list:
        (item,) = get_args(tp) or (Any,)
        item, _ = _strip_optional(item)
        if get_origin(item) is Annotated:
            item = get_args(item)[0]
        return ("lines" if item is str else "csv"), ()
    if origin is dict:
        return "mapping", ()
    return "json", ()


def fields_of(
    model: type[BaseModel],
    *,
    prefix: str = "",
    only: Iterable[str] | None = None,
    skip: Iterable[str] = (),
    help: Mapping[str, str] | None = None,
    label_prefix: str = "",
    nested_labels: bool = True,
) -> list[FormField]:
    """The inputs for ``model``'s fields in declaration order; nested models are flattened
    into dotted names with ``group`` set to the nested field's name (and, with
    ``nested_labels``, its name before their labels: "Basic auth: username")."""
    wanted = None if only is None else list(only)
    names = wanted if wanted is not None else list(model.model_fields)
    skipped = set(skip)
    out: list[FormField] = []
    for name in names:
        if name in skipped:
            continue
        info = model.model_fields[name]
        tp, optional = _strip_optional(info.annotation)
        path = f"{prefix}{name}"
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            nested = fields_of(
                tp,
                prefix=f"{path}.",
                help=help,
                label_prefix=f"{_label(name)}: " if nested_labels else "",
            )
            if optional or not info.is_required():  # the whole group may be left empty
                nested = [replace(f, required=False) for f in nested]
            out.extend(nested)
            continue
        kind, choices = _kind(name, tp, optional)
        if info.default_factory is not None:
            default = info.default_factory()  # type: ignore[call-arg]
        else:
            default = None if info.default is PydanticUndefined else info.default
        text = (help or {}).get(path) or info.description or ""
        out.append(
            FormField(
                name=path,
                label=_label(name, label_prefix),
                kind=kind,
                help=text,
                required=info.is_required(),
                default=default,
                choices=choices,
                group=prefix.rstrip("."),
            )
        )
    return out


# -- values shown in the inputs -----------------------------------------------------------------
def _text(field: FormField, value: Any) -> str:
    if value is None:
        return ""
    kind = field.kind
    if kind in ("checkbox", "tristate"):
        return "true" if value is True else ("false" if value is False else "")
    if kind == "duration" and isinstance(value, int | float):
        return spell_duration(float(value))
    if kind == "number" and isinstance(value, float) and value.is_integer():
        return str(int(value))
    if kind == "lines" and isinstance(value, list | tuple):
        return "\n".join(str(item) for item in value)
    if kind == "csv" and isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    if kind == "mapping" and isinstance(value, Mapping):
        return "\n".join(f"{k}: {v}" for k, v in value.items())
    if kind == "json":
        return json.dumps(value, indent=2, ensure_ascii=False)
    return str(value)


def _lookup(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def form_values(
    fields: Sequence[FormField], data: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """Input values for ``fields``: from ``data`` (a check as the file writes it) where it
    has the key, else each field's default."""
    values: dict[str, str] = {}
    for f in fields:
        value = _lookup(data, f.name) if data is not None else None
        values[f.name] = _text(f, f.default if value is None else value)
    return values


# -- a submitted form back to data ----------------------------------------------------------------
FormErrors = dict[str, list[str]]


def _mapping(text: str) -> tuple[dict[str, str], list[str]]:
    out: dict[str, str] = {}
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        cut = min((i for i in (line.find(":"), line.find("=")) if i > 0), default=-1)
        if cut < 0:
            problems.append(f"line {number}: expected 'name: value', got {line.strip()!r}")
            continue
        out[line[:cut].strip()] = line[cut + 1 :].strip()
    return out, problems


def _scalar(item: str) -> int | str:
    return int(item) if re.fullmatch(r"[0-9]+", item) else item


def _value(field: FormField, raw: str) -> tuple[Any, str | None]:
    """``(value, problem)``; a value of None means "not given: the default applies"."""
    kind = field.kind
    if kind == "checkbox":
        return raw in ("true", "on", "1"), None
    if kind == "tristate":
        return {"true": True, "false": False}.get(raw), None
    if not raw.strip():
        return None, None
    if kind == "lines":
        return [line.strip() for line in raw.splitlines() if line.strip()], None
    if kind == "csv":
        items = [item.strip() for item in re.split(r"[,\s]+", raw) if item.strip()]
        return [_scalar(item) for item in items], None
    if kind == "mapping":
        mapping, problems = _mapping(raw)
        return (None, "; ".join(problems)) if problems else (mapping, None)
    if kind == "json":
        try:
            return json.loads(raw), None
        except json.JSONDecodeError as exc:
            return None, f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        except RecursionError:  # Python's parser recurses once per level
            return None, "not valid JSON here: nested too deeply"
    if kind in ("textarea", "password"):
        return raw, None
    return raw.strip(), None


def parse_form(
    fields: Sequence[FormField], form: Mapping[str, str]
) -> tuple[dict[str, Any], FormErrors]:
    """The check as data (nested by dotted names, unset inputs left out) and the problems
    found before validation (unparsable JSON, a header line without a colon)."""
    data: dict[str, Any] = {}
    errors: FormErrors = {}
    for f in fields:
        raw = str(form.get(f.name, ""))[:_MAX_TEXT]
        value, problem = _value(f, raw)
        if problem is not None:
            errors.setdefault(f.name, []).append(problem)
            continue
        if value is None:
            continue
        target = data
        *parents, leaf = f.name.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value
    return data, errors


def attach_issues(
    issues: Iterable[ConfigIssue], fields: Sequence[FormField], errors: FormErrors | None = None
) -> tuple[FormErrors, list[str]]:
    """Each issue next to the field its key path names (longest match wins), with list
    indexes as line numbers; what names no field goes to the form-level list."""
    errors = {} if errors is None else errors
    general: list[str] = []
    by_name = {f.name: f for f in fields}
    groups = {f.group for f in fields if f.group}
    names = sorted([*by_name, *groups], key=len, reverse=True)
    for issue in issues:
        path = issue.path.removeprefix("check.")
        if path == "(top level)":
            path = ""
        missing = _MISSING.search(issue.message)
        if missing is not None:  # reported where the key is missing: show it at the input
            wanted = f"{path}.{missing.group(1)}" if path else missing.group(1)
            if wanted in by_name:
                errors.setdefault(wanted, []).append(issue.message)
                continue
        match = next((n for n in names if path == n or path.startswith((n + ".", n + "["))), None)
        if match is None:
            general.append(issue.message if not path else str(issue))
            continue
        rest = path[len(match) :]
        message = issue.message
        index = _INDEX.match(rest)
        if index is not None:
            message = f"line {int(index.group(1)) + 1}: {message}"
        elif rest:
            message = f"{rest.lstrip('.')}: {message}"
        errors.setdefault(match, []).append(message)
    return errors, general


COMMON_HELP: Mapping[str, str] = {
    "name": "Shown on the dashboard; with the service it makes the check's id.",
    "interval": "How often to run it: 30s, 5m, 1h. Empty: the agent's default.",
    "timeout": "How long one run may take; shorter than the interval.",
    "conditions": "One per line, all must hold: [STATUS] == 200, [RESPONSE_TIME] < 500, "
    "[BODY].status == UP.",
    "labels": "One 'key: value' per line, for filtering and alert routing.",
    "enabled": "Disabled checks are kept but never scheduled.",
    "paused": "Paused checks keep their history and do not run until resumed.",
}


@dataclass(frozen=True, slots=True)
class CheckFormSpec:
    """Every input of one check type's form, in the order the page shows them."""

    type: str
    basics: list[FormField]
    params: list[FormField]
    rules: list[FormField]
    alert: list[FormField] = field(default_factory=list)

    @property
    def all(self) -> list[FormField]:
        return [*self.basics, *self.params, *self.rules, *self.alert]


def check_form(type_name: str, model: type[CheckBase], params: type[BaseModel]) -> CheckFormSpec:
    """The form of ``type_name``: ``model`` is its merged check model, ``params`` the probe's
    own params model (whose fields make the type's section)."""
    basics = fields_of(model, only=("name", "interval", "timeout"), help=COMMON_HELP)
    own = fields_of(model, only=list(params.model_fields))
    rules = fields_of(model, only=("conditions", "labels", "enabled", "paused"), help=COMMON_HELP)
    alert = fields_of(model, only=("alert",), nested_labels=False)
    return CheckFormSpec(type_name, basics, own, rules, alert)
