"""Sessions: small state machines driven by events on a Dispatcher thread (seed 003's FSMSession).

A subclass declares its states through ``transitions`` (``(state, event kind) -> next state``,
``"*"`` matching any state) and reacts in entry actions named ``enter_<state>(event)``. Reaching
a state in ``final`` finishes the session with ``self.result``. Handlers run on the dispatcher
thread and must not block: blocking work goes to an OffloadPool or the Runtime, and its outcome
comes back as a posted event.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

if TYPE_CHECKING:
    from .dispatcher import Dispatcher

__all__ = ["Session", "SessionEvent", "TransitionError"]


class SessionEvent(NamedTuple):
    """Something that happened, addressed to the session with id ``target``."""

    target: Hashable
    kind: str
    payload: Any = None


class TransitionError(Exception):
    """A session received an event its current state has no transition for."""


class Session:
    """Base class of dispatcher sessions; override hooks or declare ``transitions``."""

    initial: ClassVar[str] = "started"
    final: ClassVar[frozenset[str]] = frozenset({"done"})
    transitions: ClassVar[Mapping[tuple[str, str], str]] = {}
    _entry_actions: ClassVar[dict[str, Callable[[Session, SessionEvent | None], None]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Resolve entry actions once per class, not with getattr on every transition.
        cls._entry_actions = {
            name.removeprefix("enter_"): getattr(cls, name)
            for name in dir(cls)
            if name.startswith("enter_") and callable(getattr(cls, name))
        }

    def __init__(self, session_id: Hashable) -> None:
        self.id = session_id
        self.state = ""
        self.result: Any = None
        self.dispatcher: Dispatcher | None = None
        self.finished = False

    # -- hooks (dispatcher thread) ----------------------------------------------------------
    def on_start(self) -> None:
        """Called once when the dispatcher takes the session in; enters ``initial``."""
        self.transition(self.initial)

    def on_event(self, event: SessionEvent) -> None:
        """Route ``event`` through ``transitions``; override for sessions without a table."""
        table = self.transitions
        target = table.get((self.state, event.kind)) or table.get(("*", event.kind))
        if target is None:
            raise TransitionError(
                f"session {self.id!r} in state {self.state!r} has no transition for "
                f"event {event.kind!r}"
            )
        self.transition(target, event)

    # -- actions ----------------------------------------------------------------------------
    def transition(self, state: str, event: SessionEvent | None = None) -> None:
        """Enter ``state``: run its entry action, then finish if it is final."""
        self.state = state
        action = self._entry_actions.get(state)
        if action is not None:
            action(self, event)
        if state in self.final and not self.finished:
            self.finish(self.result)

    def finish(self, result: Any = None) -> None:
        """End the session; its waiter gets ``result``. Later events for it are dropped."""
        self._require_dispatcher()._finish(self, result)

    def fail(self, error: BaseException) -> None:
        """End the session with ``error``; its waiter gets the exception."""
        self._require_dispatcher()._fail(self, error)

    def post(self, kind: str, payload: Any = None) -> None:
        """Post an event to this session itself (e.g. from an I/O completion, any thread)."""
        self._require_dispatcher().post(SessionEvent(self.id, kind, payload))

    def spawn_child(self, child: Session) -> None:
        """Start ``child`` as a fire-and-forget session (allowed from entry actions)."""
        self._require_dispatcher().enqueue_child(child)

    def _require_dispatcher(self) -> Dispatcher:
        if self.dispatcher is None:
            raise RuntimeError(f"session {self.id!r} is not registered with a dispatcher")
        return self.dispatcher

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id!r} state={self.state!r}>"
