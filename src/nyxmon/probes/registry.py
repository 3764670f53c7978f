"""Which executor runs which check type, and the resources executors share.

The registry holds *factories*, not executors (seed 001): an executor, and whatever it needs
(the curl bridge of the HTTP probes), exists only once a check of its type is run, so a
DNS-only batch never opens an HTTP client. :meth:`ExecutorRegistry.aclose_all` closes every
executor and shared resource that was created, and the registry can be used again afterwards.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType, TracebackType
from typing import Protocol, TypeVar

from pydantic import BaseModel

from nyxmon.checktypes import CHECK_TYPES, CheckType
from nyxmon.domain.model import Check, Outcome, Result
from nyxmon.errors import UnknownCheckTypeError
from nyxmon.probes.base import Executor

__all__ = [
    "ExecutorFactory",
    "ExecutorRegistry",
    "SharedResources",
    "builtin_registry",
]

logger = logging.getLogger(__name__)


class _AsyncClosable(Protocol):
    async def aclose(self) -> None: ...


ResourceT = TypeVar("ResourceT", bound=_AsyncClosable)


class SharedResources:
    """Lazily created objects several executors share, closed together with the registry."""

    def __init__(self) -> None:
        self._items: dict[str, _AsyncClosable] = {}
        self._factories: dict[str, Callable[[], _AsyncClosable]] = {}

    def provide(self, key: str, create: Callable[[], _AsyncClosable]) -> None:
        """Make ``create()`` the way the resource under ``key`` is made (configured settings,
        such as the agent's RDAP server), in place of the executor's default."""
        self._factories[key] = create

    def get(self, key: str, create: Callable[[], ResourceT]) -> ResourceT:
        """The resource under ``key``, created on first use (by ``create()`` unless another
        way was provided)."""
        item = self._items.get(key)
        if item is None:
            item = self._items[key] = self._factories.get(key, create)()
        return item  # type: ignore[return-value]

    def created(self) -> tuple[str, ...]:
        return tuple(self._items)

    async def aclose(self) -> None:
        items, self._items = self._items, {}
        for key, item in items.items():
            try:
                await item.aclose()
            except Exception:
                logger.exception("closing shared probe resource %r failed", key)


ExecutorFactory = Callable[[SharedResources], Executor]


@dataclass(frozen=True, slots=True)
class _Entry:
    spec_model: type[BaseModel]
    factory: ExecutorFactory


class ExecutorRegistry:
    """Check type name -> (params spec model, executor factory), with lazily built executors."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._executors: dict[str, Executor] = {}
        self._resources = SharedResources()

    def register(
        self, type_name: str, spec_model: type[BaseModel], factory: ExecutorFactory
    ) -> None:
        """Register a check type; registering a name twice is a programming error."""
        if type_name in self._entries:
            raise ValueError(f"check type {type_name!r} is already registered")
        self._entries[type_name] = _Entry(spec_model, factory)

    def provide(self, key: str, create: Callable[[], _AsyncClosable]) -> None:
        """How the shared resource ``key`` is made (see :meth:`SharedResources.provide`)."""
        self._resources.provide(key, create)

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def check_types(self) -> Mapping[str, type[BaseModel]]:
        """Each registered type's params spec model, for validating config without probing."""
        return MappingProxyType({name: e.spec_model for name, e in self._entries.items()})

    def get(self, type_name: str) -> Executor:
        """The executor for ``type_name``, created on first request and reused after."""
        executor = self._executors.get(type_name)
        if executor is None:
            entry = self._entries.get(type_name)
            if entry is None:
                raise UnknownCheckTypeError(type_name, tuple(self._entries))
            executor = self._executors[type_name] = entry.factory(self._resources)
        return executor

    def created(self) -> tuple[str, ...]:
        """Names of the types whose executors exist right now."""
        return tuple(self._executors)

    @property
    def resources(self) -> SharedResources:
        """The shared resources handed to factories (the HTTP probes' curl bridge lives here)."""
        return self._resources

    def shared_resources(self) -> tuple[str, ...]:
        """Keys of the shared resources that exist right now (``"http"`` once HTTP ran)."""
        return self._resources.created()

    async def aclose_all(self) -> None:
        """Close every executor created so far, then the shared resources; never raises."""
        executors, self._executors = self._executors, {}
        for name, executor in executors.items():
            try:
                await executor.aclose()
            except Exception:
                logger.exception("closing the %r executor failed", name)
        await self._resources.aclose()

    async def __aenter__(self) -> ExecutorRegistry:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose_all()


def builtin_registry(types: Mapping[str, CheckType] = CHECK_TYPES) -> ExecutorRegistry:
    """A fresh registry of the declared check types; each type's probe module (and its client
    library) is imported only when the first check of that type runs."""
    registry = ExecutorRegistry()
    for check_type in types.values():
        registry.register(
            check_type.name, check_type.params, _lazy_factory(check_type.name, check_type.executor)
        )
    return registry


class _MissingLibrary:
    """Stands in for an executor whose client library cannot be imported (every check type's
    library is a dependency of NyxMon, so this is a broken or partial install): each run ends
    in an error that names the missing package, and the agent and its other checks go on."""

    def __init__(self, type_name: str, missing: str) -> None:
        self._message = (
            f"the {type_name} check type needs the Python package {missing!r}, which is not "
            "installed; reinstall NyxMon with its dependencies (pip install nyxmon)"
        )

    async def execute(self, check: Check, scheduled_at: float) -> Result:
        now = time.time()
        return Result(check.id, scheduled_at, now, 0.0, Outcome.ERROR, self._message)

    async def aclose(self) -> None:
        return None


def _lazy_factory(type_name: str, path: str) -> ExecutorFactory:
    module_name, _, function = path.partition(":")

    def create(resources: SharedResources) -> Executor:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is None or exc.name.split(".")[0] == "nyxmon":
                raise
            logger.error("check type %r: %s is not installed", type_name, exc.name)
            return _MissingLibrary(type_name, exc.name.partition(".")[0])
        factory: ExecutorFactory = getattr(module, function)
        return factory(resources)

    return create
