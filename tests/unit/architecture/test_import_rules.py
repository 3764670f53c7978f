"""The layers' import rules, checked on the source (DESIGN.md and README, "How it is built").

Imports are read with ``ast`` from every module under ``src/nyxmon``, including imports inside
functions; imports under ``if TYPE_CHECKING:`` count for the direct rules (a type is still a
dependency) but not for reachability, which follows what really loads at run time.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[3] / "src"
PACKAGE = SRC / "nyxmon"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, *, runtime_only: bool) -> Iterator[str]:
    package = module if _is_package(module) else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if runtime_only and isinstance(node, ast.If) and _is_type_checking(node):
            node.body = []  # skip what only type checkers import
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            yield name
            for alias in node.names:  # ``from nyxmon.x import y`` may import module x.y
                candidate = f"{name}.{alias.name}"
                if candidate in _modules():
                    yield candidate


@cache
def _modules() -> frozenset[str]:
    return frozenset(_module_name(p) for p in PACKAGE.rglob("*.py"))


def _is_package(module: str) -> bool:
    return (SRC / module.replace(".", "/") / "__init__.py").exists()


@cache
def _ours(module: str, runtime_only: bool = False) -> frozenset[str]:
    path = SRC / (module.replace(".", "/") + ("/__init__.py" if _is_package(module) else ".py"))
    tree = ast.parse(path.read_text(), filename=str(path))
    return frozenset(
        name
        for name in _imports(tree, module, runtime_only=runtime_only)
        if name == "nyxmon" or name.startswith("nyxmon.")
    )


def _layer(module: str) -> str:
    """The package under ``nyxmon`` (``""`` for the root package, which only holds the version
    and may be imported by anyone)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _modules_of(layer: str) -> list[str]:
    return sorted(m for m in _modules() if _layer(m) == layer)


def _violations(layer: str, allowed: set[str]) -> list[str]:
    return [
        f"{module} imports {name}"
        for module in _modules_of(layer)
        for name in sorted(_ours(module))
        if _layer(name) not in allowed | {layer, ""}
    ]


RULES = [
    pytest.param("runtime", set(), id="runtime-imports-nothing-of-ours"),
    # Metrics runs its recorders on the runtime's loop thread (seed 002 on seed 000): the two
    # ship together, and neither knows anything of monitoring.
    pytest.param("metrics", {"runtime"}, id="metrics-imports-only-the-runtime"),
    pytest.param("domain", {"errors"}, id="domain-imports-only-itself-and-errors"),
    pytest.param("checktypes", set(), id="checktypes-import-nothing-of-ours"),
    pytest.param(
        "service_layer",
        {"domain", "errors", "runtime"},
        id="service-layer-imports-no-adapter",
    ),
    pytest.param(
        "probes",
        {"domain", "errors", "runtime", "checktypes"},
        id="probes-import-no-store-no-application",
    ),
    # Importers write config text: they read the check type registry and validate with the
    # config package, and never touch a store, a probe or the running agent.
    pytest.param(
        "importers",
        {"checktypes", "config", "domain", "errors", "notify"},
        id="importers-write-config-only",
    ),
]


@pytest.mark.parametrize(("layer", "allowed"), RULES)
def test_layer_imports_only_what_it_may(layer: str, allowed: set[str]) -> None:
    assert _modules_of(layer), f"no modules found for layer {layer!r}"
    assert _violations(layer, allowed) == []


def test_web_never_loads_a_probe_even_indirectly() -> None:
    seen: set[str] = set()
    stack = _modules_of("web")
    reached_from: dict[str, str] = {}
    while stack:
        module = stack.pop()
        if module in seen or module not in _modules():
            continue
        seen.add(module)
        for name in _ours(module, runtime_only=True):
            if name not in seen:
                reached_from.setdefault(name, module)
                stack.append(name)
    probes = sorted(m for m in seen if _layer(m) in {"probes", "agent"})
    assert probes == [], [f"{m} (from {reached_from.get(m)})" for m in probes]


def test_no_module_imports_another_packages_private_module() -> None:
    private = [
        f"{module} imports {name}"
        for module in _modules()
        for name in _ours(module)
        if any(part.startswith("_") and not part.startswith("__") for part in name.split("."))
        and _layer(name) != _layer(module)
    ]
    assert private == []


def test_the_checker_sees_imports_of_every_form() -> None:
    """The checker itself: absolute, relative, function-level and ``from package import
    module`` imports are all seen; type-only ones are dropped when asked."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "from nyxmon.store.sqlite import SqliteStore\n"
        "from . import snapshot\n"
        "from ..conditions import _parser\n"
        "def f():\n"
        "    import nyxmon.web.app\n"
        "if TYPE_CHECKING:\n"
        "    from nyxmon.agent.agent import Agent\n"
    )
    seen = set(_imports(ast.parse(source), "nyxmon.domain.alerting.machine", runtime_only=False))
    assert {
        "nyxmon.store.sqlite",
        "nyxmon.domain.alerting.snapshot",
        "nyxmon.domain.conditions._parser",
        "nyxmon.web.app",
        "nyxmon.agent.agent",
    } <= seen
    loaded = set(_imports(ast.parse(source), "nyxmon.domain.alerting.machine", runtime_only=True))
    assert "nyxmon.agent.agent" not in loaded
    assert "nyxmon.web.app" in loaded
