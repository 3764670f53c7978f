"""Pings from the control socket to the application and their answers back, in batches.

A web plane in a process of its own sends every ping as a ``ping`` frame and waits for the
answer that says it is durable (:mod:`nyxmon.service_layer.push`). Handled one by one, each
ping cost the agent an asyncio task, a cancel scope, a dispatcher hand-off, a cross-thread
wake-up back and a write of its own, all under the GIL the probes need: measured with
``bench/push.py``, that per-ping overhead (not the store) was what capped the ping rate. Here
the pings of one loop turn (all the frames of one read) go to the dispatcher in one hop
(:meth:`~nyxmon.agent.control.AgentControl.record_pings`), and the answers of one committed
batch come back in one wake-up and leave in one write per connection. What a ping means, when
it is answered and what an unknown key gets are unchanged: the answer still waits for the
commit of the batch that holds the ping, and an unknown key is refused with the same error.

The waiting side owns the timeout: a ping stuck behind a failing database is answered when its
batch finally commits or the agent stops, and the web plane has given up (503) long before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable

from nyxmon.control.wire import answer_frame, encode_frame, error_to_wire
from nyxmon.domain.push import Ping

__all__ = ["PingRelay"]

log = logging.getLogger(__name__)

Send = Callable[[bytes], None]
"""Queues bytes for one connection (the server's per-peer writer)."""
Token = tuple[Send, object]
"""Where an answer goes: the connection and the request id."""
Record = Callable[
    [list[tuple[Token, Ping]], Callable[[Token, str | None, BaseException | None], None]], None
]
"""``AgentControl.record_pings``."""


class PingRelay:
    """``relay.add(send, request_id, ping)`` on the server's loop for each ping frame."""

    def __init__(self, loop: asyncio.AbstractEventLoop, record: Record) -> None:
        self._loop = loop
        self._record = record
        self._incoming: list[tuple[Token, Ping]] = []
        self._lock = threading.Lock()
        self._answers: list[tuple[Token, str | None, BaseException | None]] = []
        self.batches = 0

    # -- the server's loop ------------------------------------------------------------------
    def add(self, send: Send, request_id: object, ping: Ping) -> None:
        """Take a ping; it leaves with the others of this loop turn."""
        self._incoming.append(((send, request_id), ping))
        if len(self._incoming) == 1:
            self._loop.call_soon(self._hand_over)

    def _hand_over(self) -> None:
        pings, self._incoming = self._incoming, []
        if not pings:
            return
        self.batches += 1
        try:
            self._record(pings, self._answered)
        except Exception as exc:  # the dispatcher is stopping or gone: every ping is refused
            for token, _ in pings:
                self._answered(token, None, exc)

    def _write_answers(self) -> None:
        with self._lock:
            answers, self._answers = self._answers, []
        frames: dict[Send, list[bytes]] = {}
        for (send, request_id), check_id, error in answers:
            frame = (
                answer_frame(request_id, check_id)
                if error is None
                else encode_frame({"id": request_id, "error": error_to_wire(error)})
            )
            frames.setdefault(send, []).append(frame)
        for send, parts in frames.items():
            send(b"".join(parts))

    # -- the dispatcher thread (or the loop, for a refused hand-over) -----------------------------
    def _answered(self, token: Token, check_id: str | None, error: BaseException | None) -> None:
        with self._lock:
            self._answers.append((token, check_id, error))
            first = len(self._answers) == 1
        if first:
            with contextlib.suppress(RuntimeError):  # the loop is closed: we are stopping
                self._loop.call_soon_threadsafe(self._write_answers)
