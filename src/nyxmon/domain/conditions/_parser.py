"""Turns condition text into a :class:`Condition`, or a ConditionSyntaxError saying where and why.

The grammar is Gatus's, made strict: ``operand OP operand`` with OP one of ``== != < <= > >=``,
or a whole-condition ``any(x, v1, v2...)`` / ``has(x)``. An operand is a placeholder
(``[BODY].a[0]``), ``len(...)``/``has(...)`` of one, ``pat(glob)``, ``any(v1, v2)``, or a
constant (bare or quoted). Unlike Gatus, an unknown placeholder is an error instead of a literal,
so a typo such as ``[STATS]`` cannot silently compare two strings forever.
"""

from __future__ import annotations

import re
from functools import lru_cache

from nyxmon.domain.conditions._condition import Condition
from nyxmon.domain.conditions._glob import GlobError, compile_glob
from nyxmon.domain.conditions._operands import (
    PLACEHOLDERS,
    AnyOf,
    Has,
    Len,
    LiteralValue,
    Operand,
    Pattern,
    Ref,
)
from nyxmon.domain.conditions._values import as_bool, parse_number, to_number
from nyxmon.errors import ConditionSyntaxError

__all__ = ["compile_condition"]

_OPERATORS = frozenset({"==", "!=", "<", "<=", ">", ">="})
_OPERATOR_CHARS = frozenset("=!<>")
_QUOTES = "\"'"
_QUOTE_OPENERS = frozenset(" \t([,")
_FUNCTIONS = ("len", "has", "pat", "any")
_FUNC_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_PLACEHOLDER_RE = re.compile(r"\[([A-Za-z_]+)\]")
_PATH_RE = re.compile(r"\.([^.\[\]\s]+)|\[(-?\d+)\]")
_KNOWN = ", ".join(f"[{name}]" for name in PLACEHOLDERS)


class _Fail(Exception):
    def __init__(self, reason: str, index: int) -> None:
        self.reason = reason
        self.index = index


def compile_condition(text: str) -> Condition:
    """Compile ``text`` (``"[STATUS] == 200"``) into a reusable :class:`Condition`.

    Raises :class:`~nyxmon.errors.ConditionSyntaxError` quoting the text, saying what is wrong
    and at which column. Compiled conditions are cached by text, so compiling the same condition
    for many checks is cheap.
    """
    if not isinstance(text, str):
        raise ConditionSyntaxError(
            f"invalid condition {text!r}: a condition is text like '[STATUS] == 200', "
            f"not {type(text).__name__}"
        )
    return _compile_cached(text.strip())


@lru_cache(maxsize=4096)
def _compile_cached(text: str) -> Condition:
    try:
        return _parse(text)
    except _Fail as fail:
        raise ConditionSyntaxError(
            f"invalid condition {text!r}: {fail.reason} (column {fail.index + 1})"
        ) from None


def _parse(text: str) -> Condition:
    if not text:
        raise _Fail("the condition is empty; write one like '[STATUS] == 200'", 0)
    operators, lone_equals, bad = _scan(text)
    spaced_bad = [(index, run) for index, run in bad if _spaced(text, index, len(run))]
    if spaced_bad or (bad and not operators):
        index, run = (spaced_bad or bad)[0]
        raise _Fail(f"unknown operator {run!r}; use one of == != < <= > >=", index)
    if not operators:
        whole = _whole_function(text)
        if whole is not None:
            return whole
        if lone_equals:
            raise _Fail("a single '=' does not compare; use '=='", lone_equals[0])
        raise _Fail("no comparison operator; use one of == != < <= > >=", len(text))
    if len(operators) > 1:
        spaced = [(i, op) for i, op in operators if _spaced(text, i, len(op))]
        if len(spaced) != 1:
            columns = " and ".join(str(i + 1) for i, _ in operators[:2])
            raise _Fail(
                f"more than one comparison operator (columns {columns}); "
                "quote a constant that contains one",
                operators[1][0],
            )
        operators = spaced
    index, op = operators[0]
    lhs = _operand(text, 0, index, "before", index)
    rhs = _operand(text, index + len(op), len(text), "after", index)
    lhs, rhs = _check(lhs, op, rhs, index)
    return Condition(text, _placeholders(lhs, rhs), lhs, op, rhs)


def _spaced(text: str, index: int, width: int) -> bool:
    before = index == 0 or text[index - 1].isspace()
    after = index + width >= len(text) or text[index + width].isspace()
    return before and after


def _scan(text: str) -> tuple[list[tuple[int, str]], list[int], list[tuple[int, str]]]:
    """Find operator runs outside brackets and quotes; check brackets and quotes balance."""
    operators: list[tuple[int, str]] = []
    lone_equals: list[int] = []
    bad: list[tuple[int, str]] = []
    stack: list[tuple[str, int]] = []
    quote, quote_at = "", 0
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if quote:
            if char == quote:
                quote = ""
            index += 1
            continue
        if char in _QUOTES and (index == 0 or text[index - 1] in _QUOTE_OPENERS):
            quote, quote_at = char, index
        elif char in "([":
            stack.append((char, index))
        elif char in ")]":
            opener = "(" if char == ")" else "["
            if not stack:
                raise _Fail(f"{char!r} has no matching {opener!r}", index)
            if stack[-1][0] != opener:
                raise _Fail(
                    f"{char!r} closes {stack[-1][0]!r} opened at column {stack[-1][1] + 1}",
                    index,
                )
            stack.pop()
        elif not stack and char in _OPERATOR_CHARS:
            end = index
            while end < length and text[end] in _OPERATOR_CHARS:
                end += 1
            run = text[index:end]
            if run in _OPERATORS:
                operators.append((index, run))
            elif run == "=":
                lone_equals.append(index)
            elif run != "!":
                bad.append((index, run))
            index = end
            continue
        index += 1
    if quote:
        raise _Fail(f"the quote {quote} is never closed", quote_at)
    if stack:
        raise _Fail(f"{stack[-1][0]!r} is never closed", stack[-1][1])
    return operators, lone_equals, bad


def _closing_paren(text: str, open_index: int) -> int:
    """Index of the ')' matching the '(' at ``open_index`` (brackets already known balanced)."""
    depth, quote = 0, ""
    for index in range(open_index, len(text)):
        char = text[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in _QUOTES and text[index - 1] in _QUOTE_OPENERS:
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
            if depth == 0:
                return index
    raise _Fail("'(' is never closed", open_index)


def _split_args(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the comma-separated arguments in ``text[start:end]``, outside nesting/quotes."""
    spans: list[tuple[int, int]] = []
    depth, quote, begin = 0, "", start
    for index in range(start, end):
        char = text[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in _QUOTES and (index == start or text[index - 1] in _QUOTE_OPENERS):
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            spans.append((begin, index))
            begin = index + 1
    spans.append((begin, end))
    return spans


def _span(text: str, start: int, end: int) -> tuple[int, int]:
    """``start``/``end`` moved inwards past surrounding whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _operand(text: str, start: int, end: int, side: str, op_index: int) -> Operand:
    start, end = _span(text, start, end)
    if start == end:
        raise _Fail(f"nothing {side} the operator", op_index)
    source = text[start:end]
    if source[0] == "[":
        return _placeholder(text, start, end)
    call = _FUNC_RE.match(source)
    if call is not None:
        return _function(text, start, end, call)
    return _literal(text, start, end)


def _literal(text: str, start: int, end: int) -> LiteralValue:
    source = text[start:end]
    if source[0] in _QUOTES:
        if len(source) < 2 or source[-1] != source[0]:
            closing = text.find(source[0], start + 1, end)
            raise _Fail("unexpected text after the closing quote", closing + 1)
        return LiteralValue(source, source[1:-1])
    number = parse_number(source)
    return LiteralValue(source, source if number is None else number)


def _placeholder(text: str, start: int, end: int) -> Ref:
    source = text[start:end]
    match = _PLACEHOLDER_RE.match(source)
    if match is None:
        closing = source.find("]")
        raise _Fail(
            f"{source[: closing + 1]!r} is not a placeholder; known: {_KNOWN}",
            start,
        )
    name = match.group(1).upper()
    info = PLACEHOLDERS.get(name)
    if info is None:
        raise _Fail(f"unknown placeholder [{match.group(1)}]; known: {_KNOWN}", start)
    path: list[str | int] = []
    position = match.end()
    while position < len(source):
        step = _PATH_RE.match(source, position)
        if step is None:
            if source[position] == ".":
                reason = "a '.' must be followed by a key"
            elif source[position] == "[":
                reason = "an array index must be a whole number, like [0]"
            else:
                reason = f"unexpected {source[position:]!r} after {source[:position]}"
            raise _Fail(reason, start + position)
        key, index = step.group(1), step.group(2)
        path.append(key if key is not None else int(index))
        position = step.end()
    if info.path == "none" and path:
        raise _Fail(f"[{name}] takes no path", start + match.end())
    if info.path == "header" and (len(path) != 1 or not isinstance(path[0], str)):
        raise _Fail("[HEADERS] needs one header name, like [HEADERS].content-type", start)
    return Ref.build(source, name, tuple(path))


def _function(text: str, start: int, end: int, call: re.Match[str]) -> Operand:
    source = text[start:end]
    name = call.group(1).lower()
    open_index = start + call.end() - 1
    close_index = _closing_paren(text, open_index)
    if name not in _FUNCTIONS:
        raise _Fail(f"unknown function {call.group(1)}(); known: len, has, pat, any", start)
    if close_index != end - 1:
        raise _Fail(f"unexpected text after {name}(...)", close_index + 1)
    inner_start, inner_end = _span(text, open_index + 1, close_index)
    if name in ("len", "has"):
        if inner_start == inner_end or text[inner_start] != "[":
            raise _Fail(f"{name}() takes a placeholder, like {name}([BODY].items)", inner_start)
        inner = _placeholder(text, inner_start, inner_end)
        return Len(source, inner) if name == "len" else Has(source, inner)
    if name == "pat":
        glob = text[inner_start:inner_end]
        if len(glob) >= 2 and glob[0] in _QUOTES and glob[-1] == glob[0]:
            glob = glob[1:-1]
        try:
            compiled = compile_glob(glob)
        except GlobError as exc:
            raise _Fail(f"pat({glob}): {exc.reason}", inner_start) from None
        return Pattern(source, glob, compiled)
    return AnyOf(source, _any_options(text, inner_start, inner_end))


def _any_options(text: str, start: int, end: int) -> tuple[LiteralValue, ...]:
    if start == end:
        raise _Fail("any() needs at least one value, like any(200, 201)", start)
    options = []
    for arg_start, arg_end in _split_args(text, start, end):
        arg_start, arg_end = _span(text, arg_start, arg_end)
        if arg_start == arg_end:
            raise _Fail("empty value in any()", arg_start)
        if text[arg_start] == "[" or _FUNC_RE.match(text, arg_start):
            raise _Fail(
                "any() values are constants; to test a placeholder write "
                "'[STATUS] == any(200, 201)' or 'any([STATUS], 200, 201)'",
                arg_start,
            )
        options.append(_literal(text, arg_start, arg_end))
    return tuple(options)


def _whole_function(text: str) -> Condition | None:
    """``any(x, v1, v2...)`` or ``has(x)`` standing alone as the whole condition."""
    call = _FUNC_RE.match(text)
    if call is None or call.group(1).lower() not in ("any", "has"):
        return None
    open_index = call.end() - 1
    close_index = _closing_paren(text, open_index)
    if close_index != len(text) - 1:
        raise _Fail(f"unexpected text after {call.group(1)}(...)", close_index + 1)
    if call.group(1).lower() == "has":
        has = _function(text, 0, len(text), call)
        return Condition(text, _placeholders(has), has, "==", LiteralValue("true", True), "has")
    spans = _split_args(text, open_index + 1, close_index)
    if len(spans) < 2:
        raise _Fail("any(x, ...) needs a placeholder and at least one value", close_index)
    first_start, first_end = _span(text, *spans[0])
    subject = _operand(text, first_start, first_end, "as the first argument of", first_start)
    if subject.is_literal:
        raise _Fail("the first argument of any(x, ...) must be a placeholder", first_start)
    options = _any_options(text, spans[1][0], close_index)
    choices = AnyOf(text[spans[1][0] : close_index].strip(), options)
    _check(subject, "==", choices, first_start)
    return Condition(text, _placeholders(subject), subject, "==", choices, "any")


def _check(lhs: Operand, op: str, rhs: Operand, index: int) -> tuple[Operand, Operand]:
    """Reject comparisons that can never mean anything; pre-convert constants for ordering."""
    if lhs.is_literal and rhs.is_literal:
        raise _Fail("both sides are constants; one needs a placeholder such as [STATUS]", index)
    functions = [side for side in (lhs, rhs) if isinstance(side, Pattern | AnyOf)]
    if functions and op not in ("==", "!="):
        name = "pat()" if isinstance(functions[0], Pattern) else "any()"
        raise _Fail(f"{name} only works with == and !=, not {op}", index)
    ordering = op not in ("==", "!=")
    converted = []
    for side, other in ((lhs, rhs), (rhs, lhs)):
        if isinstance(side, LiteralValue):
            side = _check_literal(side, other, op, ordering, index)
        elif ordering and side.kind in ("bool", "list"):
            hint = "true or false" if side.kind == "bool" else f"len({side.source})"
            raise _Fail(f"{side.source} cannot be ordered with {op}; compare {hint}", index)
        converted.append(side)
    return converted[0], converted[1]


def _check_literal(
    literal: LiteralValue, other: Operand, op: str, ordering: bool, index: int
) -> LiteralValue:
    if other.kind == "bool" and as_bool(literal.value) is None:
        raise _Fail(f"{other.source} is true or false, not {literal.source!r}", index)
    if not ordering:
        return literal
    number = to_number(literal.value)
    if number is None:
        raise _Fail(f"{literal.source!r} is not a number or duration; {op} compares numbers", index)
    return LiteralValue(literal.source, number)


def _placeholders(*operands: Operand) -> frozenset[str]:
    names = set()
    for operand in operands:
        if isinstance(operand, Ref):
            names.add(operand.name)
        elif isinstance(operand, Len | Has):
            names.add(operand.inner.name)
    return frozenset(names)
