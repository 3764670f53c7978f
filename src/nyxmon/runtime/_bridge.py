"""Waking an awaiting coroutine from another thread, on asyncio (uvloop) or trio."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["thread_safe_waker"]

Waker = Callable[[Callable[[], Any]], Any]


def thread_safe_waker() -> Waker:
    """Return the running loop's thread-safe "call this soon" function.

    Must be called from async code. The returned callable may be called from any thread; it raises
    ``RuntimeError`` once that loop has closed, which callers treat as "nobody is waiting any more".
    """
    try:
        return asyncio.get_running_loop().call_soon_threadsafe
    except RuntimeError:
        pass
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            token = trio.lowlevel.current_trio_token()
        except RuntimeError:
            pass
        else:
            run_sync_soon: Waker = token.run_sync_soon
            return run_sync_soon
    raise RuntimeError("no running asyncio or trio event loop in this thread")
