"""Checks probed from several locations, in the application: a prober keeps its location's
view (no machine, no notice), and the holder of the check's state feeds its machine the
combined verdict, so notices come from combined transitions only, once."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from nyxmon.domain.alerting import AlertState, Route
from nyxmon.domain.locations import LocationView
from nyxmon.domain.model import Check, Outcome, Result
from nyxmon.service_layer.application import Application
from nyxmon.service_layer.messages import (
    AlertSettings,
    CombineViews,
    RecordResults,
    SetLeases,
    SyncChecks,
)
from tests.unit.agent.test_lease_ownership import T0, Probes, Sent, Writer

LEASE = 15.0


def located(quorum: int | None = None) -> Check:
    return Check(
        "web.shop",
        "web",
        "shop",
        "http",
        30.0,
        5.0,
        MappingProxyType({"url": "http://x/"}),
        locations=("eu", "us", "ap"),
        quorum=quorum,
    )


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def app_with(clock: Clock) -> tuple[Application, Writer, Probes]:
    writer, probes = Writer(), Probes()
    app = Application(
        writer=writer,
        deliveries=Sent(),
        probes=probes,
        publish=lambda status: None,
        settings=AlertSettings(routes=(Route("ops", "webhook", webhook_url="http://x/"),)),
        clock=clock,
    )
    app.handle(SetLeases(frozenset()))
    app.handle(SyncChecks((located(),)))
    return app, writer, probes


def view(location: str, state: AlertState, at: float) -> LocationView:
    return LocationView("web.shop", location, state, at, at, f"{state.value} from {location}", 1)


def notices(writer: Writer) -> list[str]:
    writer.commit()
    return [row.notice.kind.value for batch in writer.batches for row in batch.outbox]


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_prober_keeps_its_location_view_and_sends_nothing(clock: Clock) -> None:
    app, writer, probes = app_with(clock)
    app.handle(SetLeases(frozenset({"web.shop@eu"}), agent_id=7))
    assert probes.scheduled == ("web.shop",)
    for n in range(3):
        at = T0 + 30 * n
        app.handle(RecordResults((Result("web.shop", at, at, 0.1, Outcome.FAIL, "503"),)))
        app.end_of_batch()
        writer.commit()
    assert notices(writer) == []
    views = [v for batch in writer.batches for v in batch.views]
    assert views[-1].state is AlertState.DOWN  # two failures: the default threshold
    assert (views[-1].location, views[-1].agent_id, views[-1].since) == ("eu", 7, T0)
    assert not any(batch.states for batch in writer.batches)  # no machine here


def test_the_state_holder_probes_nothing_and_notices_only_quorum_transitions(
    clock: Clock,
) -> None:
    app, writer, probes = app_with(clock)
    app.handle(SetLeases(frozenset({"web.shop"})))
    assert probes.scheduled == ()  # a located check is probed by its locations' agents
    now = T0 + 100
    clock.now = now

    def combine(*views: LocationView) -> None:
        app.handle(CombineViews({"web.shop": views}, LEASE, now=clock.now))
        app.end_of_batch()
        writer.commit()

    combine(view("eu", AlertState.UP, now), view("us", AlertState.UP, now))
    assert app.statuses()["web.shop"].state == "up"
    combine(view("eu", AlertState.DOWN, now + 1), view("us", AlertState.UP, now + 1))
    assert app.statuses()["web.shop"].state == "up"  # one location of quorum 2: nobody told
    assert notices(writer) == []
    clock.now = now + 30
    combine(view("eu", AlertState.DOWN, now + 30), view("us", AlertState.DOWN, now + 30))
    combine(view("eu", AlertState.DOWN, now + 31), view("us", AlertState.DOWN, now + 31))
    assert app.statuses()["web.shop"].state == "down"
    assert notices(writer).count("down") == 1
    clock.now = now + 60
    # us recovers first: below the quorum, so up, and one RECOVERED for the whole outage.
    combine(view("eu", AlertState.DOWN, now + 30), view("us", AlertState.UP, now + 60))
    assert app.statuses()["web.shop"].state == "up"
    combine(view("eu", AlertState.UP, now + 61), view("us", AlertState.UP, now + 60))
    assert notices(writer) == ["down", "recovered"]


def test_a_stale_location_cannot_hold_the_check_down(clock: Clock) -> None:
    app, writer, _ = app_with(clock)
    app.handle(SetLeases(frozenset({"web.shop"})))
    clock.now = T0 + 100
    down = (view("eu", AlertState.DOWN, T0 + 99), view("us", AlertState.DOWN, T0 + 99))
    app.handle(CombineViews({"web.shop": down}, LEASE, now=clock.now))
    app.end_of_batch()
    writer.commit()
    assert app.statuses()["web.shop"].state == "down"
    # us dies (no result for 2 intervals and a lease); eu and ap see it up again.
    clock.now = T0 + 100 + 2 * 30 + LEASE + 5
    later = (
        view("eu", AlertState.UP, clock.now - 1),
        view("us", AlertState.DOWN, T0 + 99),
        view("ap", AlertState.UP, clock.now - 1),
    )
    app.handle(CombineViews({"web.shop": later}, LEASE, now=clock.now))
    app.end_of_batch()
    assert app.statuses()["web.shop"].state == "up"
    assert notices(writer).count("recovered") == 1
