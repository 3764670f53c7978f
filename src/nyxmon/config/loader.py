"""YAML to plain data, remembering the line of every key and list item.

PyYAML's constructors throw marks away and silently keep the last of two equal keys; we compose
the node graph (libyaml when present) and build the data ourselves, so that every later message
can say ``file:line``, duplicate keys are errors, and ``${VAR}`` substitution knows the key path
it is working on.

Scalars follow the YAML 1.2 core schema, as Gatus's Go parser does: only ``true``/``false`` are
booleans (``no``, ``on`` and ``NO`` stay strings), ``1:30`` is not sexagesimal and ``2024-01-01``
is not a date. A string the schema wants as a number or a boolean is converted there.

The node graph comes from :mod:`nyxmon.config._compose`, which bounds nesting and what aliases
may expand to before anything is built, so the building here may recurse and expand freely.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
import yaml._yaml as _yaml
from yaml.nodes import Node, ScalarNode, SequenceNode

from nyxmon.config._compose import MAPPING, SCALAR, SEQUENCE, LimitExceeded, YamlNode, compose
from nyxmon.config._text import format_path, show
from nyxmon.config.envsubst import SubstitutionError, substitute
from nyxmon.config.issues import ConfigIssue, ConfigValidationError, KeyPath

__all__ = ["MAX_TEXT", "KeyPath", "YamlDocument", "parse_value", "parse_yaml", "too_large"]


_TAG = "tag:yaml.org,2002:"
MAX_TEXT = 4 * 1_048_576
"""The largest config accepted, in bytes (4 MiB: some 20,000 checks; validating one that
large takes a few hundred MB at most, and a larger one is more likely a mistake or an attack)."""


def too_large(filename: str) -> ConfigIssue:
    """The issue of a file over :data:`MAX_TEXT`."""
    return ConfigIssue(
        filename,
        None,
        "",
        f"the file is larger than {MAX_TEXT // 1_048_576} MiB ({MAX_TEXT:,} bytes), the most "
        "a config may be",
    )


_IMPLICIT: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
for _tag, _regexp, _first in (
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+0123456789."),
    ),
    ("merge", r"^(?:<<)$", ["<"]),
):
    for _char in _first:
        _IMPLICIT.setdefault(_char, []).append((_TAG + _tag, re.compile(_regexp)))


@functools.lru_cache(maxsize=8192)
def _plain_tag(value: str) -> str:
    for tag, regexp in _IMPLICIT.get(value[:1], ()):
        if regexp.match(value):
            return tag
    return _TAG + "str"


class _CoreResolver(yaml.resolver.BaseResolver):
    """The YAML 1.2 core schema's implicit types, plus ``<<`` merge keys.

    Replaces PyYAML's resolver (YAML 1.1, path resolvers) with a cached table lookup: it runs
    once per scalar and was a quarter of the load time of a large file.
    """

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            return _plain_tag(value) if implicit[0] else _TAG + "str"
        return _TAG + ("seq" if kind is SequenceNode else "map")


if getattr(yaml, "__with_libyaml__", False):

    class _Composer(_yaml.CParser, _CoreResolver):
        def __init__(self, stream: str) -> None:
            _yaml.CParser.__init__(self, stream)
            _CoreResolver.__init__(self)

else:  # pragma: no cover - libyaml is present wherever we ship wheels

    class _Composer(  # type: ignore[no-redef]
        yaml.reader.Reader,
        yaml.scanner.Scanner,
        yaml.parser.Parser,
        yaml.composer.Composer,
        _CoreResolver,
    ):
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            _CoreResolver.__init__(self)


@dataclass(slots=True)
class YamlDocument:
    """Plain data (dicts, lists, str, int, float, bool, None) plus where each piece came from.

    ``locations`` maps the key path of every mapping key and list item to its 1-based
    ``(line, column)``. ``plain_scalars`` keeps the source text of unquoted scalars that became
    non-strings, so a message can say ``got 1 (quote it: "1")``. ``issues`` are problems found
    while building: duplicate keys, unset variables, unsupported tags.
    """

    data: Any
    locations: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    plain_scalars: dict[KeyPath, str] = field(default_factory=dict)
    issues: list[ConfigIssue] = field(default_factory=list)

    def line_of(self, path: KeyPath) -> int | None:
        """The line of ``path``, or of its nearest ancestor that is in the file."""
        for end in range(len(path), -1, -1):
            found = self.locations.get(path[:end])
            if found is not None:
                return found[0]
        return None


def parse_yaml(
    text: str, *, filename: str, environ: Mapping[str, str] | None = None
) -> YamlDocument:
    """Parse one YAML document, substituting ``${VAR}`` from ``environ`` in string values.

    A syntax error raises :class:`ConfigValidationError` at once (nothing after it can be
    trusted); every other problem is collected in the returned document's ``issues``.
    """
    if len(text) > MAX_TEXT:
        raise ConfigValidationError([too_large(filename)])
    composer = _Composer(text)
    try:
        root = compose(composer)
    except LimitExceeded as exc:
        issue = ConfigIssue(filename, exc.line, format_path(exc.path), exc.message)
        raise ConfigValidationError([issue]) from None
    except yaml.MarkedYAMLError as exc:
        raise ConfigValidationError([_syntax_issue(exc, filename, text)]) from None
    except yaml.YAMLError as exc:
        issue = ConfigIssue(filename, None, "", f"invalid YAML: {exc}")
        raise ConfigValidationError([issue]) from None
    finally:
        composer.dispose()
        _plain_tag.cache_clear()  # a speed-up within one file; kept, it pins ~1 MB of scalars
    builder = _Builder(filename, environ if environ is not None else {})
    document = YamlDocument(data=None)
    if root is not None:
        document.data = builder.build(root, ())
    document.locations = builder.locations
    document.locations.setdefault((), (1, 1))
    document.plain_scalars = builder.plain_scalars
    document.issues = builder.issues
    return document


def parse_value(text: str, *, where: str, environ: Mapping[str, str] | None = None) -> Any:
    """One value written as YAML outside a file (``nyxmon check add --set KEY=VALUE``), read
    as the file reads its values: the same scalars (``yes`` is text) and the same bounds.

    Raises :class:`ConfigValidationError` whose issues carry ``where`` as their file.
    """
    document = parse_yaml(text, filename=where, environ=environ)
    if document.issues:
        raise ConfigValidationError(document.issues)
    return document.data


def _syntax_issue(exc: yaml.MarkedYAMLError, filename: str, text: str) -> ConfigIssue:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    problem = exc.problem or "cannot parse"
    context = exc.context or ""
    context_line = exc.context_mark.line + 1 if exc.context_mark is not None else None
    if problem.startswith("but ") and context:
        message = f"{context} {problem}"
    elif context:
        where = f" that starts on line {context_line}" if context_line not in (None, line) else ""
        message = f"{problem} ({context}{where})"
    else:
        message = problem
    if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
        message += "; YAML indentation must use spaces, not tabs"
    return ConfigIssue(filename, line, "", f"invalid YAML: {message}")


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.splitlines()
    if 0 <= line < len(lines) and 0 <= column < len(lines[line]):
        return lines[line][column]
    return ""


class _Builder:
    """Walks the node graph once, building data and the side tables of :class:`YamlDocument`."""

    def __init__(self, filename: str, environ: Mapping[str, str]) -> None:
        self.filename = filename
        self.environ = environ
        self.locations: dict[KeyPath, tuple[int, int]] = {}
        self.plain_scalars: dict[KeyPath, str] = {}
        self.issues: list[ConfigIssue] = []
        self._active: set[int] = set()

    def issue(self, node: YamlNode, path: KeyPath, message: str) -> None:
        self.issues.append(ConfigIssue(self.filename, node.position[0], format_path(path), message))

    def build(self, node: YamlNode, path: KeyPath) -> Any:
        if node.kind == SCALAR:
            return self.scalar(node, path)
        if id(node) in self._active:
            self.issue(node, path, "an alias refers to a node that contains it (endless data)")
            return None
        self._active.add(id(node))
        try:
            if node.kind == SEQUENCE:
                return self.sequence(node, path)
            return self.mapping(node, path)
        finally:
            self._active.discard(id(node))

    def sequence(self, node: YamlNode, path: KeyPath) -> list[Any]:
        if node.tag != _TAG + "seq":
            self.issue(node, path, f"unsupported YAML tag {node.tag!r} on a list")
        items: list[Any] = []
        for index, item in enumerate(node.value):
            item_path = (*path, index)
            self.locations[item_path] = item.position
            items.append(self.build(item, item_path))
        return items

    def mapping(self, node: YamlNode, path: KeyPath) -> dict[str, Any]:
        if node.tag != _TAG + "map":
            self.issue(node, path, f"unsupported YAML tag {node.tag!r} on a mapping")
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        merges: list[YamlNode] = []
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                merges.extend(self._merge_sources(value_node, path))
                continue
            if key_node.kind != SCALAR:
                self.issue(key_node, path, "a key must be a plain string, not a list or mapping")
                continue
            key = key_node.value
            key_path = (*path, key)
            line = key_node.position[0]
            if key in first_line:
                self.issue(
                    key_node,
                    key_path,
                    f"duplicate key {show(key)} (first defined on line {first_line[key]}); "
                    "YAML keeps only one of them, so remove or rename one",
                )
                continue
            first_line[key] = line
            self.locations[key_path] = key_node.position
            result[key] = self.build(value_node, key_path)
        # Explicit keys win over merged ones, and earlier merge sources over later ones.
        for source in merges:
            for key_node, value_node in source.value:
                if key_node.kind != SCALAR or key_node.value in result:
                    continue
                key_path = (*path, key_node.value)
                self.locations[key_path] = key_node.position
                result[key_node.value] = self.build(value_node, key_path)
        return result

    def _merge_sources(self, node: YamlNode, path: KeyPath) -> list[YamlNode]:
        if node.kind == MAPPING:
            return [node]
        if node.kind == SEQUENCE and all(item.kind == MAPPING for item in node.value):
            return list(node.value)
        self.issue(node, path, "'<<' (merge) expects a mapping or a list of mappings")
        return []

    def scalar(self, node: YamlNode, path: KeyPath) -> Any:
        tag, text = node.tag, node.value
        if tag == _TAG + "str":
            if "$" in text:
                try:
                    return substitute(text, self.environ)
                except SubstitutionError as exc:
                    for problem in exc.problems:
                        self.issue(node, path, problem)
                    return text
            return text
        try:
            value = _convert(tag, text)
        except _UnsupportedTag:
            self.issue(node, path, f"unsupported YAML tag {tag!r}")
            return None
        except ValueError:
            self.issue(node, path, f"{show(text)} is not a valid {tag.removeprefix(_TAG)}")
            return None
        if node.plain:
            self.plain_scalars[path] = text
        return value


def _convert(tag: str, text: str) -> Any:
    kind = tag.removeprefix(_TAG)
    if kind == "null":
        if text not in ("", "~", "null", "Null", "NULL"):
            raise ValueError(text)
        return None
    if kind == "bool":
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise ValueError(text)
        return lowered == "true"
    if kind == "int":
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text, 10)
    if kind == "float":
        lowered = text.lower().lstrip("+")
        if lowered in (".inf", "-.inf", ".nan"):
            return {".inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}[lowered]
        return float(text)
    raise _UnsupportedTag(tag)


class _UnsupportedTag(Exception):
    """A scalar carries a tag other than str, int, float, bool or null."""
