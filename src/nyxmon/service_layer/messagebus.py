"""A synchronous message bus (cosmicpython's shape) that runs on the dispatcher thread.

``handle(message)`` runs the command's one handler or every handler of an event, then the events
those handlers emitted, until none are left. A failing event handler is logged and the rest go
on; a failing command handler raises to the caller, who asked for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nyxmon.service_layer.messages import Command, Event, Message
from nyxmon.service_layer.unit_of_work import AgentUnitOfWork

__all__ = ["CommandHandler", "EventHandler", "MessageBus"]

log = logging.getLogger(__name__)

CommandHandler = Callable[[Any, AgentUnitOfWork], Any]
EventHandler = Callable[[Any, AgentUnitOfWork], None]


class MessageBus:
    """Routes messages to handlers; handlers get ``(message, uow)``, dependencies bound in."""

    def __init__(
        self,
        uow: AgentUnitOfWork,
        command_handlers: Mapping[type[Command], CommandHandler],
        event_handlers: Mapping[type[Event], Sequence[EventHandler]],
    ) -> None:
        self.uow = uow
        self._commands = dict(command_handlers)
        self._events = {kind: list(handlers) for kind, handlers in event_handlers.items()}
        self.event_failures = 0

    def handle(self, message: Message) -> Any:
        """Handle ``message`` and everything it leads to; return the command handler's value."""
        queue: list[Message] = [message]
        reply: Any = None
        while queue:
            current = queue.pop(0)
            if isinstance(current, Command):
                value = self._handle_command(current)
                if current is message:
                    reply = value
            else:
                self._handle_event(current)
            queue.extend(self.uow.collect_new_events())
        return reply

    def _handle_command(self, command: Command) -> Any:
        handler = self._commands.get(type(command))
        if handler is None:
            raise LookupError(f"no handler for command {type(command).__name__}")
        return handler(command, self.uow)

    def _handle_event(self, event: Event) -> None:
        for handler in self._events.get(type(event), ()):
            try:
                handler(event, self.uow)
            except Exception:
                self.event_failures += 1
                log.exception("handler %s failed for %r", _name(handler), event)

    def subscribe(self, kind: type[Event], handler: EventHandler) -> None:
        """Add an event handler (wiring code uses this; handlers never subscribe themselves)."""
        self._events.setdefault(kind, []).append(handler)


def _name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)
