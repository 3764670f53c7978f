"""The overview's listing: filters, grouping by service and pages, on plain check views."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from nyxmon.domain.model import Check
from nyxmon.web.live import CheckView
from nyxmon.web.pages.listing import MAX_LIMIT, Filters, build_listing, parse_filters


def view(
    service: str, name: str, state: str = "up", type: str = "http", **labels: str
) -> CheckView:
    check = Check(
        id=f"{service.lower()}.{name}",
        service=service,
        name=name,
        type=type,
        interval=30,
        timeout=5,
        params=MappingProxyType({"url": f"https://{name}.example/health"}),
        labels=MappingProxyType(labels),
    )
    return CheckView(check, None, state)


VIEWS = (
    view("Shop", "cart", "down", tier="front"),
    view("API", "health", "up", type="json"),
    view("Shop", "Basket", "up"),
    view("API", "auth", "degraded", tier="back"),
    view("DNS", "apex", "pending", type="dns"),
)


def test_rows_are_ordered_by_service_then_name_each_group_headed_once() -> None:
    listing = build_listing(VIEWS, Filters())
    assert [row.view.check.id for row in listing.rows] == [
        "api.auth",
        "api.health",
        "dns.apex",
        "shop.Basket",
        "shop.cart",
    ]
    heads = [(row.group.name, row.group.total) if row.group else None for row in listing.rows]
    assert heads == [("API", 2), None, ("DNS", 1), ("Shop", 2), None]
    assert listing.rows[0].group is not None
    assert dict(listing.rows[0].group.states) == {"degraded": 1, "up": 1}
    assert listing.next_offset is None
    assert listing.services == ["API", "DNS", "Shop"]
    assert listing.types == ["dns", "http", "json"]


def test_a_new_views_tuple_is_sorted_afresh_and_lists_are_never_cached() -> None:
    ids = lambda views: [r.view.check.id for r in build_listing(views, Filters()).rows]  # noqa: E731
    assert ids(VIEWS) == ids(VIEWS)  # the same tuple: the cached order
    refreshed = (*VIEWS[:-1], view("API", "aaa", "up"))  # the next refresh of the live view
    assert ids(refreshed)[0] == "api.aaa"
    mutable = list(VIEWS)
    assert "api.aaa" not in ids(mutable)
    mutable.append(view("API", "aab", "up"))
    assert ids(mutable)[0] == "api.aab"


def test_a_group_continuing_on_the_next_page_gets_no_second_heading() -> None:
    first = build_listing(VIEWS, Filters(), offset=0, limit=1)
    assert first.next_offset == 1
    assert first.remaining == 4
    second = build_listing(VIEWS, Filters(), offset=1, limit=2)
    assert [row.view.check.name for row in second.rows] == ["health", "apex"]
    assert second.rows[0].group is None  # API started on the first page
    assert second.rows[1].group is not None
    assert second.rows[1].group.name == "DNS"
    last = build_listing(VIEWS, Filters(), offset=4, limit=2)
    assert [row.view.check.name for row in last.rows] == ["cart"]
    assert last.next_offset is None
    beyond = build_listing(VIEWS, Filters(), offset=50)
    assert beyond.rows == []
    assert beyond.next_offset is None


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param(Filters(state="down"), ["shop.cart"], id="state"),
        pytest.param(Filters(service="API"), ["api.auth", "api.health"], id="service"),
        pytest.param(Filters(type="json"), ["api.health"], id="type"),
        pytest.param(Filters(label="tier=front"), ["shop.cart"], id="label value"),
        pytest.param(Filters(label="tier"), ["api.auth", "shop.cart"], id="label exists"),
        pytest.param(Filters(label="tier = back"), ["api.auth"], id="label spaces"),
        pytest.param(Filters(q="CART"), ["shop.cart"], id="search ignores case"),
        pytest.param(Filters(q="shop basket"), ["shop.Basket"], id="every word must match"),
        pytest.param(Filters(q="health.example"), ["api.health"], id="search in target"),
        pytest.param(Filters(q="tier=back"), ["api.auth"], id="search in labels"),
        pytest.param(Filters(q="nothing-like-it"), [], id="no match"),
        pytest.param(Filters(service="Shop", state="up"), ["shop.Basket"], id="combined"),
    ],
)
def test_filters_narrow_the_rows(filters: Filters, expected: list[str]) -> None:
    listing = build_listing(VIEWS, filters)
    assert [row.view.check.id for row in listing.rows] == expected
    assert listing.matching == len(expected)
    assert listing.total == len(VIEWS)
    # State counts describe every check, whatever the filters.
    assert sum(listing.states.values()) == len(VIEWS)


def test_parse_filters_ignores_unknown_states_and_cuts_long_values() -> None:
    filters = parse_filters({"state": "exploded", "q": "  x" * 500, "service": " API "})
    assert filters.state == ""
    assert len(filters.q) == 200
    assert filters.service == "API"
    assert parse_filters({"state": "down"}).state == "down"
    assert not parse_filters({}).active
    assert Filters(q="a b", state="up").query(offset=200) == "q=a+b&state=up&offset=200"


def test_limit_and_offset_are_clamped() -> None:
    assert build_listing(VIEWS, Filters(), limit=0).limit == 1
    assert build_listing(VIEWS, Filters(), limit=10**9).limit == MAX_LIMIT
    assert build_listing(VIEWS, Filters(), offset=-5).offset == 0
