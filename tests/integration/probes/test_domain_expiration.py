"""``[DOMAIN_EXPIRATION]`` of http/json checks against a local RDAP server: the configured
server or the one a bootstrap file names, the registered domain found by dropping labels,
answers cached, and every way of not knowing said in the failed condition."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from tests.servers.checks import make_check
from tests.servers.http_target import HttpTarget
from tests.servers.rdap_server import RdapServer, serve_rdap

from nyxmon.domain.model import Outcome, Result
from nyxmon.probes.rdap import RdapError, RdapLookup
from nyxmon.probes.registry import ExecutorRegistry, builtin_registry

pytestmark = pytest.mark.anyio

IN_60_DAYS = (datetime.now(UTC) + timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
DOMAINS = {
    "example.localhost": IN_60_DAYS,
    "lapsed.localhost": "2020-01-01T00:00:00Z",
    "undated.localhost": "none",
    "garbled.localhost": "broken",
}


@pytest.fixture
async def rdap() -> AsyncIterator[RdapServer]:
    async with serve_rdap(DOMAINS, tlds=("localhost",)) as server:
        yield server


async def probe_with(
    lookup: RdapLookup, url: str, conditions: list[str], kind: str = "http"
) -> Result:
    registry: ExecutorRegistry = builtin_registry()
    registry.provide("rdap", lambda: lookup)
    try:
        check = make_check(kind, {"url": url}, *conditions, check_id="web.domain")
        return await registry.get(kind).execute(check, time.time())
    finally:
        await registry.aclose_all()


def local(http_target: HttpTarget, host: str) -> str:
    """The target's URL under ``host`` (curl sends every ``*.localhost`` to loopback)."""
    return f"http://{host}:{http_target.port}/"


async def test_the_configured_server_gives_the_days_left_of_the_registered_domain(
    rdap: RdapServer, http_target: HttpTarget
) -> None:
    url = local(http_target, "shop.example.localhost")
    ok = await probe_with(RdapLookup(rdap.base_url), url, ["[DOMAIN_EXPIRATION] > 720h"])
    assert ok.outcome is Outcome.OK, ok.message
    assert 59.9 < ok.details["domain_days_left"] <= 60
    failed = await probe_with(RdapLookup(rdap.base_url), url, ["[DOMAIN_EXPIRATION] > 90d"])
    assert failed.outcome is Outcome.FAIL
    [description] = failed.details["failed_conditions"]
    assert description.startswith("[DOMAIN_EXPIRATION] (59d23h")
    assert "59.9 days left) > 90d" in description
    # shop.example.localhost is not registered (404), example.localhost is
    assert rdap.hits["/rdap/domain/shop.example.localhost"] == 2
    assert rdap.hits["/rdap/domain/example.localhost"] == 2


async def test_without_a_server_the_bootstrap_file_names_it_and_answers_are_cached(
    rdap: RdapServer, http_target: HttpTarget
) -> None:
    lookup = RdapLookup(bootstrap_url=rdap.bootstrap_url)
    url = local(http_target, "example.localhost")
    for _ in range(3):
        result = await probe_with(lookup, url, ["[DOMAIN_EXPIRATION] > 30d"], kind="json")
        assert result.details.get("domain_days_left", 0) > 59, result.details
    assert rdap.hits == {"/dns.json": 1, "/rdap/domain/example.localhost": 1}


@pytest.mark.parametrize(
    ("host", "why"),
    [
        pytest.param("lapsed.localhost", None, id="expired"),
        pytest.param(
            "nobody.localhost", "no RDAP registration found for nobody.localhost", id="unknown"
        ),
        pytest.param(
            "undated.localhost",
            "the RDAP record of undated.localhost has no expiration event",
            id="no-expiration-event",
        ),
        pytest.param("garbled.localhost", "is not JSON", id="not-json"),
    ],
)
async def test_an_expired_or_unknown_domain_fails_the_condition_saying_why(
    rdap: RdapServer, http_target: HttpTarget, host: str, why: str | None
) -> None:
    result = await probe_with(
        RdapLookup(rdap.base_url), local(http_target, host), ["[DOMAIN_EXPIRATION] > 0"]
    )
    assert result.outcome is Outcome.FAIL
    [description] = result.details["failed_conditions"]
    if why is None:
        assert "days ago) > 0" in description
    else:
        assert description.startswith("[DOMAIN_EXPIRATION] (missing: ")
        assert why in result.details["domain_expiration_error"]


async def test_a_tld_the_bootstrap_file_does_not_list_is_named(rdap: RdapServer) -> None:
    lookup = RdapLookup(bootstrap_url=rdap.bootstrap_url)
    try:
        with pytest.raises(RdapError, match=r"no RDAP server for \.test in the bootstrap file"):
            await lookup.expiration("www.example.test")
        with pytest.raises(RdapError, match="is not a domain name"):
            await lookup.expiration("127.0.0.1")
    finally:
        await lookup.aclose()


async def test_a_server_that_is_down_is_an_error_not_a_hang(http_target: HttpTarget) -> None:
    lookup = RdapLookup("http://127.0.0.1:9/rdap")
    result = await probe_with(
        lookup, local(http_target, "example.localhost"), ["[DOMAIN_EXPIRATION] > 1d"]
    )
    assert result.outcome is Outcome.FAIL
    assert (
        "RDAP request to http://127.0.0.1:9/rdap/domain/example.localhost failed"
        in (result.details["domain_expiration_error"])
    )


async def test_checks_without_the_placeholder_ask_nothing(
    rdap: RdapServer, http_target: HttpTarget
) -> None:
    result = await probe_with(
        RdapLookup(rdap.base_url), local(http_target, "example.localhost"), ["[STATUS] == 200"]
    )
    assert result.outcome is Outcome.OK
    assert not rdap.hits
    assert "domain_days_left" not in result.details
