"""``agent.rdap_url`` and ``agent.rdap_bootstrap_url``: where [DOMAIN_EXPIRATION] asks."""

from __future__ import annotations

import pytest

from nyxmon.config import ConfigValidationError, load_config_text

CHECKS = "services: []\n"


def test_the_rdap_settings_default_to_the_iana_bootstrap_file() -> None:
    agent = load_config_text(CHECKS, environ={}).agent
    assert agent.rdap_url is None
    assert agent.rdap_bootstrap_url == "https://data.iana.org/rdap/dns.json"


def test_an_rdap_server_is_read_without_its_trailing_slash() -> None:
    text = "agent:\n  rdap_url: https://rdap.example.net/rdap/\n" + CHECKS
    assert load_config_text(text, environ={}).agent.rdap_url == "https://rdap.example.net/rdap"


def test_an_rdap_url_that_is_not_http_is_refused_naming_the_key() -> None:
    with pytest.raises(ConfigValidationError) as caught:
        load_config_text("agent:\n  rdap_url: ftp://rdap.example.net\n" + CHECKS, environ={})
    [issue] = caught.value.errors
    assert issue.path == "agent.rdap_url"
    assert "expected an http:// or https:// URL" in issue.message
