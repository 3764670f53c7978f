"""``GET /events``: coalesced status changes as Server-Sent Events; the hub itself.

The hub is driven by the agent's real :class:`~nyxmon.agent.feed.StatusFeed` published from
another thread (as the dispatcher does), with an injected clock-free coalescing period: the
tests assert on which changes arrive in which event, never on how long anything took.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any, cast

import anyio
import pytest
from tests.integration.web.conftest import WebEnv, wait_for

from nyxmon.agent.feed import StatusFeed
from nyxmon.domain.model import Outcome, Result
from nyxmon.domain.status import CheckStatus
from nyxmon.web.context import WebContext
from nyxmon.web.events import StatusHub


class _FeedOnly:
    """The one thing the hub needs from the agent: its status feed."""

    def __init__(self) -> None:
        self.feed = StatusFeed()

    def subscribe(self, callback: Callable[[CheckStatus], None]) -> Callable[[], None]:
        return self.feed.subscribe(callback)


def _status(check_id: str, outcome: Outcome, n: int) -> CheckStatus:
    result = Result(check_id, float(n), float(n), 0.01 * n, outcome, message=f"run {n}")
    return CheckStatus(check_id).after(result)


def _parse(chunk: str) -> tuple[str, dict[str, Any]]:
    lines = dict(line.split(": ", 1) for line in chunk.strip().splitlines())
    return lines["event"], json.loads(lines["data"])


@pytest.mark.anyio
async def test_changes_published_from_another_thread_arrive_coalesced() -> None:
    source = _FeedOnly()
    hub = StatusHub(cast(WebContext, source), coalesce=0.05, keepalive=30)
    stream = hub.stream()
    assert await stream.__anext__() == "retry: 3000\n\n"
    assert hub.subscribed

    def publish() -> None:
        for n in range(1, 201):
            source.feed.publish(_status(f"c{n % 10}", Outcome.OK if n % 2 else Outcome.FAIL, n))

    thread = threading.Thread(target=publish)
    thread.start()
    thread.join()
    event, data = _parse(await stream.__anext__())
    assert event == "status"
    newest = {item["id"]: item for item in data["checks"]}
    assert set(newest) == {f"c{n}" for n in range(10)}
    # Only the newest status of each check is sent: c0 last changed at n=200.
    assert newest["c0"]["message"] == "run 200"
    assert newest["c9"]["message"] == "run 199"
    assert hub.events_sent == 1
    await stream.aclose()
    assert not hub.subscribed
    assert source.feed.subscribers == 0


@pytest.mark.anyio
async def test_a_closed_hub_ends_every_stream() -> None:
    source = _FeedOnly()
    hub = StatusHub(cast(WebContext, source), coalesce=0.05, keepalive=30)
    streams = [hub.stream() for _ in range(3)]
    for stream in streams:
        await stream.__anext__()
    assert hub.clients == 3
    hub.close()
    for stream in streams:
        with pytest.raises(StopAsyncIteration):
            await stream.__anext__()
    assert hub.clients == 0
    assert not hub.subscribed


@pytest.mark.anyio
async def test_quiet_streams_send_keepalive_comments() -> None:
    source = _FeedOnly()
    hub = StatusHub(cast(WebContext, source), coalesce=0.05, keepalive=0.01)
    stream = hub.stream()
    await stream.__anext__()
    with anyio.fail_after(10):
        assert await stream.__anext__() == ": keepalive\n\n"
    await stream.aclose()


def test_the_event_stream_carries_changes_of_the_running_agent(web: WebEnv) -> None:
    session = web.login()
    answer = session.get(web.url + "/events?snapshot=true", stream=True, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    assert answer.headers["cache-control"] == "no-cache"
    chunks = answer.iter_lines(decode_unicode=True)
    assert next(chunks) == "retry: 3000"
    assert next(chunks) == ""
    assert next(chunks) == "event: snapshot"
    snapshot = json.loads(next(chunks).removeprefix("data: "))
    assert {item["id"] for item in snapshot["checks"]} == {
        "website.home",
        "website.broken",
        "api.health",
    }
    seen: set[str] = set()
    for line in chunks:  # checks run every second: changes keep coming
        if line.startswith("data: "):
            seen |= {item["id"] for item in json.loads(line[6:])["checks"]}
        if {"website.home", "website.broken"} <= seen:
            break
    hub = web.server.app.state.nyxmon.hub
    assert hub.clients == 1
    answer.close()
    wait_for(lambda: hub.clients == 0, what="the hub to notice the disconnect")
    wait_for(lambda: not hub.subscribed, what="the hub to leave the agent's feed")


def test_events_need_a_signed_in_caller(web: WebEnv) -> None:
    answer = web.anonymous().get(web.url + "/events", timeout=10)
    assert answer.status_code == 401
    with_token = web.api().get(web.url + "/events", stream=True, timeout=10)
    assert with_token.status_code == 200
    with_token.close()
