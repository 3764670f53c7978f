"""Which address is the client: forwarded headers count only from trusted proxies."""

from __future__ import annotations

import pytest

from nyxmon.web.forwarded import TrustedProxies, parse_forwarded


@pytest.mark.parametrize(
    ("trusted", "peer", "chain", "client"),
    [
        pytest.param((), "127.0.0.1", ["203.0.113.9"], "127.0.0.1", id="nobody-trusted"),
        pytest.param(
            ("10.0.0.0/8",), "127.0.0.1", ["203.0.113.9"], "127.0.0.1", id="peer-not-trusted"
        ),
        pytest.param(("127.0.0.1",), "127.0.0.1", ["203.0.113.9"], "203.0.113.9", id="one-proxy"),
        pytest.param(
            ("127.0.0.1", "10.0.0.0/8"),
            "127.0.0.1",
            ["198.51.100.1", "203.0.113.9", "10.1.2.3"],
            "203.0.113.9",
            id="right-most-untrusted",
        ),
        pytest.param(
            ("127.0.0.1",), "127.0.0.1", ["10.0.0.1", "127.0.0.1"], "10.0.0.1", id="skips-itself"
        ),
        pytest.param(
            ("0.0.0.0/0",), "127.0.0.1", ["10.0.0.1", "10.0.0.2"], "10.0.0.1", id="all-trusted"
        ),
        pytest.param(("::1",), "::1", ["2001:db8::7"], "2001:db8::7", id="ipv6"),
        pytest.param(("127.0.0.1",), "::ffff:127.0.0.1", ["192.0.2.1"], "192.0.2.1", id="mapped"),
        pytest.param(("127.0.0.1",), "127.0.0.1", ["unknown"], "unknown", id="obfuscated"),
    ],
)
def test_the_client_is_the_right_most_untrusted_hop(
    trusted: tuple[str, ...], peer: str, chain: list[str], client: str
) -> None:
    assert TrustedProxies(trusted).client(peer, chain) == client


def test_forwarded_elements_give_their_address_and_scheme() -> None:
    header = 'for=192.0.2.60;proto=HTTPS;by=203.0.113.43, for="[2001:db8:cafe::17]:4711", by=x'
    assert parse_forwarded(header) == [
        ("192.0.2.60", "https"),
        ("2001:db8:cafe::17", None),
        (None, None),
    ]


def test_garbage_is_not_an_address() -> None:
    proxies = TrustedProxies(("127.0.0.1",))
    assert "not an ip" not in proxies
    assert "" not in proxies
    assert not TrustedProxies(())
