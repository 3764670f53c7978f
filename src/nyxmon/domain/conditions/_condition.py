"""A compiled condition and the outcome of evaluating it."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from nyxmon.domain.conditions._observation import Missing, Observation
from nyxmon.domain.conditions._operands import AnyOf, Operand, Pattern
from nyxmon.domain.conditions._values import render, to_number, truncate, values_equal

__all__ = ["Condition", "ConditionOutcome", "evaluate_all"]

Style = Literal["compare", "any", "has"]

_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_PATTERN_SHOWN = 40


@dataclass(frozen=True, slots=True)
class ConditionOutcome:
    """Whether one condition held, and the condition with its actual values filled in.

    ``description`` reads like Gatus's: ``[STATUS] (503) == 200``.
    """

    condition: str
    ok: bool
    description: str


@dataclass(frozen=True, slots=True)
class Condition:
    """A condition compiled once by :func:`compile_condition` and evaluated many times.

    ``placeholders`` names the placeholders it reads (``{"STATUS"}``) so a probe can skip work
    no condition needs. Equality and hashing use the text only.
    """

    text: str
    placeholders: frozenset[str] = field(compare=False)
    _lhs: Operand = field(compare=False, repr=False)
    _op: str = field(compare=False, repr=False)
    _rhs: Operand = field(compare=False, repr=False)
    _style: Style = field(default="compare", compare=False, repr=False)

    def uses(self, placeholder: str) -> bool:
        """Whether the condition reads ``placeholder`` (given without brackets: ``"BODY"``)."""
        return placeholder in self.placeholders

    def evaluate(self, observation: Observation) -> ConditionOutcome:
        """Evaluate against ``observation``; never raises for anything the probe saw."""
        lhs, rhs = self._lhs, self._rhs
        left = lhs.resolve(observation)
        right = rhs.resolve(observation)
        op = self._op
        ordering = _ORDERING.get(op)
        if ordering is None:
            ok = _equal(lhs, left, rhs, right)
            if op == "!=" and not isinstance(left, Missing) and not isinstance(right, Missing):
                ok = not ok
            return ConditionOutcome(self.text, ok, self._describe(left, right))
        left_number, right_number = to_number(left), to_number(right)
        ok = left_number is not None and right_number is not None
        ok = ok and ordering(left_number, right_number)
        return ConditionOutcome(self.text, ok, self._describe(left, right, numeric=True))

    def _describe(self, left: Any, right: Any, *, numeric: bool = False) -> str:
        lhs, rhs = self._lhs, self._rhs
        with_pattern = isinstance(lhs, Pattern) or isinstance(rhs, Pattern)
        limit = _PATTERN_SHOWN if with_pattern else 80
        left_text = _show(lhs, left, limit, numeric)
        if self._style == "has":
            return left_text
        if self._style == "any":
            assert isinstance(rhs, AnyOf)
            options = ", ".join(option.source for option in rhs.options)
            return f"any({left_text}, {options})"
        return f"{left_text} {self._op} {_show(rhs, right, limit, numeric)}"


def _show(operand: Operand, value: Any, limit: int, numeric: bool) -> str:
    if (
        numeric
        and not operand.is_literal
        and not isinstance(value, Missing)
        and to_number(value) is None
    ):
        return f"{operand.source} ({truncate(render(value), limit)}: not a number)"
    return operand.show(value, limit)


def _equal(lhs: Operand, left: Any, rhs: Operand, right: Any) -> bool:
    if isinstance(left, Missing) or isinstance(right, Missing):
        return False
    if isinstance(rhs, Pattern):
        return rhs.matches(left)
    if isinstance(lhs, Pattern):
        return lhs.matches(right)
    if isinstance(rhs, AnyOf):
        return any(values_equal(left, option.value) for option in rhs.options)
    if isinstance(lhs, AnyOf):
        return any(values_equal(right, option.value) for option in lhs.options)
    return values_equal(left, right)


def evaluate_all(
    conditions: Sequence[Condition], observation: Observation
) -> list[ConditionOutcome]:
    """Evaluate every condition against one observation, in order."""
    return [condition.evaluate(observation) for condition in conditions]
