"""What a check type declares: its parameters and the placeholders its probe observes.

A :class:`CheckType` is everything about a type that validation, forms, docs and the API need,
without its probe: the executor is named by a ``module:function`` path that only the probe
registry resolves, when a check of the type first runs, so neither the config, the web plane
nor the CLI loads a probe's client library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "SECRET",
    "SECRET_FIELD",
    "CheckType",
    "SecretKind",
    "SpecModel",
    "password_field",
    "secret",
]

#: The JSON schema key that marks a params field secret; its value is a :data:`SecretKind`.
SECRET = "x-nyxmon-secret"
SecretKind = Literal["value", "url", "headers"]
"""What of a secret field is secret: the whole ``value`` (a password, a token), the
credentials and query values of a ``url``, or the values of credential-like ``headers``
(``Authorization``, ``X-Api-Key``, ``Cookie``, ...)."""


def secret(kind: SecretKind = "value") -> dict[str, Any]:
    """The ``json_schema_extra`` of a secret params field: ``Field(..., json_schema_extra=
    secret())``. Such a field is write-only through the API, the dashboard and the CLI: they
    show a mask, and a mask given back keeps the stored secret (:mod:`nyxmon.checktypes.secrets`).
    The mark is part of the type's params schema, so the OpenAPI document shows it too."""
    extra: dict[str, Any] = {SECRET: kind}
    if kind == "value":
        extra["writeOnly"] = True
    return extra


#: JSON schema marks of a password field: the declared secret (write-only through the API, masked
#: in answers and pages), and OpenAPI's password format so forms show a password input.
SECRET_FIELD: dict[str, Any] = {**secret("value"), "format": "password"}


def password_field(description: str = "password (may come from an environment variable)") -> Any:
    """A ``password`` field: optional, secret, never shown back in full."""
    return Field(None, description=description, json_schema_extra=SECRET_FIELD)


class SpecModel(BaseModel):
    """Base of every check type's params: unknown keys are errors, instances immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class CheckType:
    """One kind of check.

    ``observes`` names the condition placeholders (without brackets) its probe fills in; a
    condition reading any other can never pass, so validation refuses it. ``executor`` is the
    ``module:function`` of the executor factory, resolved lazily by the probe registry.
    ``condition_fields`` names params that hold more conditions (``degraded_conditions``): they
    are validated like ``conditions``.
    """

    name: str
    params: type[SpecModel]
    observes: frozenset[str]
    executor: str
    summary: str
    condition_fields: tuple[str, ...] = ()
