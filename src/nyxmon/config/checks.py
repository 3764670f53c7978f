"""The model of one check: common fields plus the inline parameters of its type.

Like Gatus, a check's type parameters sit next to its name and interval (``url:`` beside
``interval:``). Each check type owns a params model (``extra="forbid"``) in
:mod:`nyxmon.checktypes`; here each is merged with :class:`CheckBase` into one model per type,
and the per-type models form a union discriminated by ``type``. The YAML loader, the REST API,
the web form and the CLI validate checks with these same models, so whatever validates in one
validates in the others.

A condition is refused when it reads a placeholder its check's type never observes
(``[STATUS]`` on a dns check): it could never pass, so the check would be down forever.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, Union, cast

from pydantic import AfterValidator, BaseModel, Field, TypeAdapter, ValidationInfo, create_model

from nyxmon.checktypes import CHECK_TYPES, params_models
from nyxmon.checktypes.booleans import Boolean
from nyxmon.config._text import invalid, show
from nyxmon.config.alert_policy import AlertSection
from nyxmon.config.durations import IntervalDuration, TimeoutDuration
from nyxmon.config.schema import SECTION_CONFIG, Labels, LocationName, NonEmptyStr
from nyxmon.domain.conditions import compile_condition

__all__ = [
    "COMMON_CHECK_FIELDS",
    "CheckBase",
    "ConditionCompiler",
    "Registry",
    "check_adapter",
    "check_config_type",
    "check_models",
    "check_params",
    "default_compiler",
    "unobserved",
    "valid_check_id",
]

Registry = Mapping[str, type[BaseModel]]
"""Check type name -> the model of that type's own parameters (default: the declared check
types of :mod:`nyxmon.checktypes`)."""

ConditionCompiler = Callable[[str], object]
"""Compiles one condition string; raises ``ConditionSyntaxError`` when it cannot."""

CONTEXT_COMPILER = "compile_condition"
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def default_compiler() -> ConditionCompiler:
    """The domain's condition compiler."""
    return compile_condition


def _check_condition(text: str, info: ValidationInfo, type_name: str | None = None) -> str:
    compiler: ConditionCompiler | None = None
    if isinstance(info.context, Mapping):
        compiler = info.context.get(CONTEXT_COMPILER)
    if compiler is None:
        compiler = compile_condition
    try:
        compiled = compiler(text)
    except Exception as exc:  # the compiler's own error type; any failure means "invalid"
        reason = str(exc)
        if not reason.startswith("invalid condition"):
            reason = f"invalid condition {show(text)}: {reason}"
        raise invalid("condition", reason) from None
    if type_name is None and isinstance(info.data, Mapping):
        type_name = info.data.get("type")
    unseen = unobserved(compiled, type_name) if isinstance(type_name, str) else None
    if unseen is not None:
        raise invalid("condition", unseen)
    return text


def _condition_of_type(text: str, info: ValidationInfo, *, type_name: str) -> str:
    return _check_condition(text, info, type_name)


def unobserved(condition: object, type_name: str) -> str | None:
    """Why ``condition`` can never pass on a check of ``type_name``, or None when it can.

    A type's observed placeholders come from its declaration in :mod:`nyxmon.checktypes`; a
    type not declared there (an injected registry's) is not judged. ``condition`` is what the
    compiler returned: anything with ``placeholders`` (the domain's ``Condition``) is judged.
    """
    declared = CHECK_TYPES.get(type_name)
    placeholders = getattr(condition, "placeholders", None)
    if declared is None or not isinstance(placeholders, frozenset):
        return None
    missing = sorted(placeholders - declared.observes)
    if not missing:
        return None
    names = ", ".join(f"[{name}]" for name in missing)
    verb = "is" if len(missing) == 1 else "are"
    seen = ", ".join(f"[{name}]" for name in sorted(declared.observes))
    return f"{names} {verb} never observed by {type_name} checks (they observe {seen})"


def valid_check_id(value: str) -> bool:
    """Whether ``value`` may be a check's id (letters, digits, ``.``, ``_``, ``-``)."""
    return _ID_RE.fullmatch(value) is not None


def _check_id(value: str) -> str:
    if not valid_check_id(value):
        reason = (
            "expected an id of letters, digits, '.', '_' and '-' (at most 128, starting with a "
            f"letter or digit), got {show(value)}"
        )
        raise invalid("check_id", reason)
    return value


ConditionText = Annotated[str, AfterValidator(_check_condition)]


def _check_locations(value: list[str]) -> list[str]:
    seen: set[str] = set()
    for name in value:
        if name in seen:
            raise invalid("locations", f"location {show(name)} is listed twice")
        seen.add(name)
    return value


def _check_quorum(value: int | None, info: ValidationInfo) -> int | None:
    if value is None:
        return None
    locations = info.data.get("locations")
    if locations is None:  # the locations were invalid themselves: judged there
        return value
    if not locations:
        raise invalid("quorum", "a quorum needs locations: list where the check is probed from")
    if not 1 <= value <= len(locations):
        raise invalid(
            "quorum",
            f"expected 1 to {len(locations)} (the number of locations), got {value}",
        )
    return value


class CheckBase(BaseModel):
    """Fields every check has, whatever its type.

    ``interval`` and ``timeout`` are None when the check inherits them from ``defaults``;
    ``id`` is None when it is derived from the service and check names; ``alert`` holds the
    alert policy keys the check overrides; ``locations`` and ``quorum`` where it is probed
    from and how many of those must see it down (:mod:`nyxmon.domain.locations`).
    """

    model_config = SECTION_CONFIG

    name: NonEmptyStr
    type: str
    id: Annotated[str, AfterValidator(_check_id)] | None = None
    interval: IntervalDuration | None = None
    timeout: TimeoutDuration | None = None
    conditions: list[ConditionText] = []
    labels: Labels = {}
    enabled: Boolean = True
    paused: Boolean = False
    alert: AlertSection | None = None
    #: Agent locations that each probe the check (several agents on PostgreSQL); its state
    #: is DOWN only when ``quorum`` of them (a majority by default) see it down.
    locations: Annotated[list[LocationName], AfterValidator(_check_locations)] = []
    quorum: Annotated[int | None, AfterValidator(_check_quorum)] = None


COMMON_CHECK_FIELDS: frozenset[str] = frozenset(CheckBase.model_fields)


def _model_name(type_name: str) -> str:
    words = re.split(r"[^A-Za-z0-9]+", type_name)
    return "".join(word[:1].upper() + word[1:] for word in words) + "CheckConfig"


@functools.lru_cache(maxsize=32)
def _build(items: tuple[tuple[str, type[BaseModel]], ...]) -> dict[str, type[CheckBase]]:
    models: dict[str, type[CheckBase]] = {}
    for type_name, params_model in items:
        clash = COMMON_CHECK_FIELDS & set(params_model.model_fields)
        if clash:
            raise TypeError(
                f"params model {params_model.__name__} of check type {type_name!r} redefines "
                f"common check fields: {', '.join(sorted(clash))}"
            )
        bases: tuple[type[CheckBase], ...] = (CheckBase, cast(type[CheckBase], params_model))
        tag: Any = Literal.__getitem__(type_name)
        declared = CHECK_TYPES.get(type_name)
        of_type: Any = Annotated[
            str, AfterValidator(functools.partial(_condition_of_type, type_name=type_name))
        ]  # the params' fields are validated before ``type``: the type is bound here
        more_conditions: dict[str, Any] = {
            name: (list[of_type], params_model.model_fields[name])
            for name in (declared.condition_fields if declared is not None else ())
        }  # judged like ``conditions``: syntax, and placeholders the type observes
        models[type_name] = create_model(
            _model_name(type_name),
            __base__=bases,
            __doc__=f"A check of type {type_name!r}: common fields plus {params_model.__name__}.",
            type=(tag, ...),
            **more_conditions,
        )
    return models


def check_models(registry: Registry | None = None) -> Mapping[str, type[CheckBase]]:
    """One merged model per check type, built once per registry."""
    registry = params_models() if registry is None else registry
    return _build(tuple(sorted(registry.items())))


def check_config_type(registry: Registry | None = None) -> Any:
    """The union of every check type's model, discriminated by ``type`` (for FastAPI bodies)."""
    registry = params_models() if registry is None else registry
    return _union(tuple(sorted(registry.items())))


@functools.lru_cache(maxsize=32)
def _union(items: tuple[tuple[str, type[BaseModel]], ...]) -> Any:
    models = tuple(_build(items).values())
    if not models:
        raise ValueError("no check types are registered")
    members: Any = Union.__getitem__(models)
    return Annotated[members, Field(discriminator="type")]


@functools.lru_cache(maxsize=32)
def _adapter(items: tuple[tuple[str, type[BaseModel]], ...]) -> TypeAdapter[CheckBase]:
    return TypeAdapter(_union(items))


def check_adapter(registry: Registry | None = None) -> TypeAdapter[CheckBase]:
    """Validates one check (a mapping) against the union of registered types.

    Pass ``context={"compile_condition": fn}`` to ``validate_python`` to use another compiler.
    """
    registry = params_models() if registry is None else registry
    return _adapter(tuple(sorted(registry.items())))


def check_params(spec: CheckBase) -> dict[str, Any]:
    """The type's own parameters of a validated check, as JSON-ready data."""
    return spec.model_dump(mode="json", exclude=set(COMMON_CHECK_FIELDS))
