"""What live pages learn from the event stream besides statuses: whether a state changed (so
counts and groups are re-rendered only then), that checks were added or removed anywhere
(the catalog watch), and, at connect, whether either happened since the page was rendered.

Driven by the agent's real :class:`~nyxmon.agent.feed.StatusFeed` published from another
thread, as the dispatcher does; nothing is timed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import anyio
import pytest

from nyxmon.agent.feed import StatusFeed
from nyxmon.domain.model import Check, Outcome, Result
from nyxmon.domain.status import CheckStatus
from nyxmon.web.catalog_watch import CatalogWatch
from nyxmon.web.context import WebContext
from nyxmon.web.events import StatusHub
from nyxmon.web.live import LiveView


class _Agentish:
    """What the mirror and the hub need from the agent: its feed and a status snapshot."""

    def __init__(self) -> None:
        self.feed = StatusFeed()

    def subscribe(self, callback: Callable[[CheckStatus], None]) -> Callable[[], None]:
        return self.feed.subscribe(callback)

    async def statuses(self) -> dict[str, CheckStatus]:
        return {}


def _status(check_id: str, outcome: Outcome, n: int) -> CheckStatus:
    result = Result(check_id, float(n), float(n), 0.01, outcome, message=f"run {n}")
    return CheckStatus(check_id).after(result)


def _from_thread(agent: _Agentish, *statuses: CheckStatus) -> None:
    """Publish like the dispatcher: from another thread."""
    thread = threading.Thread(target=lambda: [agent.feed.publish(s) for s in statuses])
    thread.start()
    thread.join()


def _parse(chunk: str) -> tuple[str, dict[str, Any]]:
    lines = dict(line.split(": ", 1) for line in chunk.strip().splitlines())
    return lines["event"], json.loads(lines["data"])


async def _next(stream: AsyncIterator[str]) -> tuple[str, dict[str, Any]]:
    with anyio.fail_after(10):
        return _parse(await stream.__anext__())


def _hub() -> tuple[_Agentish, LiveView, StatusHub]:
    agent = _Agentish()
    context = cast(WebContext, agent)
    live = LiveView(context, ttl=1.0)
    return agent, live, StatusHub(context, coalesce=0.01, keepalive=30, mirror=live.mirror)


@pytest.mark.anyio
async def test_events_say_whether_a_state_changed_or_only_another_result_came() -> None:
    agent, _, hub = _hub()
    stream = hub.stream()
    assert await stream.__anext__() == "retry: 3000\n\n"
    _from_thread(agent, _status("a.b", Outcome.OK, 1))
    event, data = await _next(stream)
    assert (event, data["states_changed"]) == ("status", True)  # a check seen the first time
    _from_thread(agent, _status("a.b", Outcome.OK, 2), _status("a.b", Outcome.OK, 3))
    event, data = await _next(stream)
    assert [c["message"] for c in data["checks"]] == ["run 3"]
    assert data["states_changed"] is False  # up, and up again: no count changes
    _from_thread(agent, _status("a.b", Outcome.FAIL, 4))
    _, data = await _next(stream)
    assert (data["checks"][0]["state"], data["states_changed"]) == ("down", True)
    # Down and back up within one period: same state at both ends, but something happened.
    _from_thread(agent, _status("a.b", Outcome.OK, 5), _status("a.b", Outcome.FAIL, 6))
    _, data = await _next(stream)
    assert data["states_changed"] is True
    await stream.aclose()


@pytest.mark.anyio
async def test_a_page_rendered_before_a_change_hears_of_it_when_it_connects() -> None:
    agent, live, hub = _hub()
    await live.mirror.statuses()  # the page's render subscribed the mirror
    mark, version = live.mirror.state_changes, hub.catalog_version
    current = hub.stream(catalog=version, states=mark)
    assert await current.__anext__() == "retry: 3000\n\n"  # nothing since: nothing to say
    await current.aclose()

    _from_thread(agent, _status("a.b", Outcome.FAIL, 1))  # after the render, before connecting
    hub.catalog_changed()
    stale = hub.stream(catalog=version, states=mark)
    assert await stale.__anext__() == "retry: 3000\n\n"
    assert await _next(stale) == ("catalog", {"version": version + 1})
    assert await _next(stale) == ("status", {"checks": [], "states_changed": True})
    hub.catalog_changed()  # and later changes as they happen
    assert await _next(stale) == ("catalog", {"version": version + 2})
    await stale.aclose()


@pytest.mark.anyio
async def test_a_fresh_list_is_never_older_than_the_last_status() -> None:
    agent, live, _ = _hub()
    check = Check("a.b", "A", "b", "http", 60, 10)

    async def read_checks() -> tuple[Check, ...]:
        return (check,)

    assert [v.state for v in await live.checks(read_checks)] == ["pending"]
    agent.feed.publish(_status("a.b", Outcome.FAIL, 1))
    assert [v.state for v in await live.checks(read_checks)] == ["pending"]  # shared for ttl
    views = await live.checks(read_checks, fresh=True)
    assert [v.state for v in views] == ["down"]
    assert live.state_mark(views) == live.mirror.state_changes
    assert live.state_mark(tuple(view for view in views)) == -1  # unknown list: "changed"


@pytest.mark.anyio
async def test_the_catalog_watch_announces_changes_while_someone_listens() -> None:
    marks = [1]
    listening = [False]
    announced: list[int] = []

    async def read() -> object:
        if marks[0] < 0:
            raise RuntimeError("the store is closing")
        return marks[0]

    watch = CatalogWatch(
        read, lambda: announced.append(marks[0]), listening=lambda: listening[0], period=0.001
    )

    async def until(predicate: Callable[[], bool]) -> None:
        with anyio.fail_after(10):
            while not predicate():  # noqa: ASYNC110 - the watch's own counters, polled
                await anyio.sleep(0.001)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(watch.run)
        await until(lambda: watch.reads == 1)  # the baseline, read at start
        marks[0] = 2  # changed while nobody listens: kept for later, not lost
        await anyio.sleep(0.01)
        assert watch.reads == 1
        listening[0] = True
        await until(lambda: announced == [2])
        marks[0] = -1  # a failing read is retried, not the end of the watch
        await until(lambda: watch.reads >= 2)
        marks[0] = 3
        await until(lambda: announced == [2, 3])
        tasks.cancel_scope.cancel()
    assert watch.changes == 2
