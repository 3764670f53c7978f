"""What a check type declares: its parameters and the placeholders its probe observes.

A :class:`CheckType` is everything about a type that validation, forms, docs and the API need,
without its probe: the executor is named by a ``module:function`` path that only the probe
registry resolves, when a check of the type first runs, so neither the config, the web plane
nor the CLI loads a probe's client library.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

__all__ = ["CheckType", "SpecModel"]


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
