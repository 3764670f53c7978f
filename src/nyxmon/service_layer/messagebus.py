"""A synchronous message bus (cosmicpython's shape) that runs on the dispatcher thread.

``handle(message)`` runs the command's one handler or every handler of an event, then the events
those handlers emitted, until none are left. A failing event handler is logged and the rest go
on; a failing command handler raises to the caller, who asked for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nyxmon.service_layer.dependencies import Dependencies
from nyxmon.service_layer.handlers import CommandHandler, EventHandler
from nyxmon.service_layer.messages import Command, Event, Message
from nyxmon.service_layer.unit_of_work import UnitOfWork

__all__ = ["MessageBus"]

log = logging.getLogger(__name__)


class MessageBus:
    """Routes messages to handlers, each called as ``handler(message, uow, deps)``."""

    def __init__(
        self,
        uow: UnitOfWork,
        deps: Dependencies,
        command_handlers: Mapping[type[Command], CommandHandler],
        event_handlers: Mapping[type[Event], Sequence[EventHandler]],
    ) -> None:
        self.uow = uow
        self.deps = deps
        self._commands = dict(command_handlers)
        self._events = {kind: tuple(handlers) for kind, handlers in event_handlers.items()}
        self.event_failures = 0

    def handle(self, message: Message) -> Any:
        """Handle ``message`` and everything it leads to; return the command handler's value."""
        if isinstance(message, Command):
            reply = self._handle_command(message)
        else:
            reply = None
            self._handle_event(message)
        for event in self.uow.collect_new_events():  # events emitted while handling those too
            self._handle_event(event)
        return reply

    def _handle_command(self, command: Command) -> Any:
        handler = self._commands.get(type(command))
        if handler is None:
            raise LookupError(f"no handler for command {type(command).__name__}")
        return handler(command, self.uow, self.deps)

    def _handle_event(self, event: Event) -> None:
        for handler in self._events.get(type(event), ()):
            try:
                handler(event, self.uow, self.deps)
            except Exception:
                self.event_failures += 1
                log.exception("handler %s failed for %s", _name(handler), type(event).__name__)


def _name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)
