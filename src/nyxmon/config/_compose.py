"""YAML events to a small node graph, with bounds on depth and on what aliases expand to.

PyYAML's composers (libyaml's included) recurse once per nesting level, in C, so a value nested
200,000 lists deep crashes the process, and they expand nothing but let the next step expand
aliases without limit ("billion laughs": nine aliases of nine aliases ... is a gigabyte of
data from a few hundred bytes). This composer reads the parser's events in a loop with its own
stack and refuses, at the event that crosses the line and before anything is expanded:

- nesting deeper than :data:`MAX_DEPTH` lists and mappings (no real config comes near it);
- a document whose values, every alias counted as the values it stands for, exceed
  :data:`MAX_NODES`.

Stopping early matters beyond memory: libyaml's scanner spends time proportional to the depth
on every token, so it must not be asked to read on past the limit. Its nodes are slimmer than
PyYAML's (a line and column instead of two marks), which is most of a large file's memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    DocumentEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from nyxmon.config.issues import KeyPath

__all__ = ["MAX_DEPTH", "MAX_NODES", "LimitExceeded", "YamlNode", "compose"]

MAX_DEPTH = 64
"""Lists and mappings inside each other, at most (a real config needs fewer than ten)."""
MAX_NODES = 500_000
"""Keys, items and scalars of a document at most, aliases counted as what they expand to."""

SCALAR, SEQUENCE, MAPPING = "scalar", "sequence", "mapping"


@dataclass(slots=True, eq=False)
class YamlNode:
    """One node: ``value`` is the text of a scalar, the items of a sequence, or the
    ``(key, value)`` pairs of a mapping; ``position`` its 1-based line and column (one tuple,
    shared by every place an alias repeats it). ``size`` counts the node and everything under
    it, aliases expanded (0 while the node is still open)."""

    kind: str
    tag: str
    value: Any
    position: tuple[int, int]
    plain: bool = False
    size: int = 0


class LimitExceeded(Exception):
    """The document crossed a bound; ``line`` (1-based) and ``path`` say where."""

    def __init__(self, line: int, path: KeyPath, message: str) -> None:
        self.line = line
        self.path = path
        self.message = message
        super().__init__(message)


@dataclass(slots=True)
class _Open:
    node: YamlNode
    key: YamlNode | None = None  # a mapping's key waiting for its value
    items: list[Any] = field(default_factory=list)


def compose(parser: Any) -> YamlNode | None:
    """The single document of ``parser``'s stream as a node graph (None when empty).

    Raises PyYAML's ``MarkedYAMLError`` for syntax errors and for more than one document, and
    :class:`LimitExceeded` for a document past the bounds.
    """
    parser.get_event()  # the stream's start
    if parser.check_event(StreamEndEvent):
        parser.get_event()
        return None
    start: Any = parser.get_event().start_mark  # the document's start
    root = _Composer(parser).document()
    parser.get_event()  # the document's end
    if not parser.check_event(StreamEndEvent):
        event: Any = parser.get_event()
        raise yaml.composer.ComposerError(
            "expected a single document in the stream",
            start,
            "but found another document",
            event.start_mark,
        )
    return root


class _Composer:
    def __init__(self, parser: Any) -> None:
        self.parser = parser
        self.anchors: dict[str, tuple[YamlNode, Any]] = {}
        self.stack: list[_Open] = []
        self.total = 0

    def path(self) -> KeyPath:
        """The key path of the node about to be added to the innermost open collection."""
        parts: list[str | int] = []
        for frame in self.stack:
            if frame.node.kind == SEQUENCE:
                parts.append(len(frame.items))
            elif frame.key is not None:
                parts.append(frame.key.value if frame.key.kind == SCALAR else "?")
        return tuple(parts)

    def count(self, size: int, line: int, *, alias: bool) -> None:
        self.total += size
        if self.total > MAX_NODES:
            if alias:
                message = (
                    f"aliases here would expand the document past {MAX_NODES:,} values (an "
                    "alias bomb?); write the data out, or use fewer aliases of aliases"
                )
            else:
                message = f"the document has more than {MAX_NODES:,} values (keys, items)"
            raise LimitExceeded(line, self.path(), message)

    def document(self) -> YamlNode | None:
        parser = self.parser
        root: YamlNode | None = None
        while True:
            event: Any = parser.get_event()
            if isinstance(event, DocumentEndEvent | StreamStartEvent | StreamEndEvent):
                raise AssertionError(f"unexpected {event}")  # pragma: no cover
            line = event.start_mark.line + 1
            if isinstance(event, CollectionEndEvent):
                frame = self.stack.pop()
                node = frame.node
                node.size = 1 + sum(item.size or 1 for item in frame.items)
                node.value = (
                    list(zip(frame.items[::2], frame.items[1::2], strict=True))
                    if node.kind == MAPPING
                    else frame.items
                )
            elif isinstance(event, AliasEvent):
                anchor: Any = event.anchor
                found = self.anchors.get(anchor)
                if found is None:
                    mark: Any = event.start_mark
                    raise yaml.composer.ComposerError(
                        None, None, f"found undefined alias {anchor!r}", mark
                    )
                node = found[0]
                # An alias of a node still open (it contains itself) counts once; the builder
                # reports it as endless data.
                self.count(max(node.size, 1), line, alias=True)
            else:
                node = self.open(event, line)
                if node.kind != SCALAR:
                    continue
            if not self.stack:
                root = node
                break
            self.add(node)
        return root

    def open(self, event: Any, line: int) -> YamlNode:
        anchor = event.anchor
        if anchor is not None and anchor in self.anchors:
            raise yaml.composer.ComposerError(
                f"found duplicate anchor {anchor!r}; first occurrence",
                self.anchors[anchor][1],
                "second occurrence",
                event.start_mark,
            )
        self.count(1, line, alias=False)
        position = (line, event.start_mark.column + 1)
        tag = event.tag
        if isinstance(event, ScalarEvent):
            if tag is None or tag == "!":
                tag = self.parser.resolve(ScalarNode, event.value, event.implicit)
            node = YamlNode(SCALAR, tag, event.value, position, not event.style, 1)
        else:
            kind = SEQUENCE if isinstance(event, SequenceStartEvent) else MAPPING
            assert isinstance(event, SequenceStartEvent | MappingStartEvent)
            if tag is None or tag == "!":
                resolved = SequenceNode if kind == SEQUENCE else MappingNode
                tag = self.parser.resolve(resolved, None, event.implicit)
            if len(self.stack) >= MAX_DEPTH:
                raise LimitExceeded(
                    line,
                    self.path(),
                    f"nested more than {MAX_DEPTH} lists and mappings deep; flatten this value",
                )
            node = YamlNode(kind, tag, None, position)
            self.stack.append(_Open(node))
        if anchor is not None:
            self.anchors[anchor] = (node, event.start_mark)
        return node

    def add(self, node: YamlNode) -> None:
        frame = self.stack[-1]
        frame.items.append(node)
        if frame.node.kind == MAPPING:
            frame.key = node if frame.key is None else None
