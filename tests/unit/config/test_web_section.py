"""The ``web:`` section's status pages, metrics token, admin password file and cookie flag."""

from __future__ import annotations

import pytest

from nyxmon.config import load_config_text
from nyxmon.config.web import StatusPage
from tests.unit.config.conftest import errors_of

SERVICES = """\
services:
  - name: Website
    checks: [{name: home, type: http, url: "http://127.0.0.1:8090/"}]
  - name: API
    checks: [{name: health, type: http, url: "http://127.0.0.1:8090/health"}]
"""


def test_web_section_keys_reach_the_loaded_settings_with_paths_resolved() -> None:
    text = (
        "web:\n"
        "  status_pages:\n"
        "    - {slug: public, title: Our services, services: [Website], description: Hi}\n"
        "    - {slug: all, title: Everything}\n"
        "  metrics_token: 0123456789abcdef-token\n"
        "  admin_password_file: secrets/admin.txt\n"
        "  secure_cookies: true\n" + SERVICES
    )
    web = load_config_text(text, filename="t.yaml", base_dir="/srv/nyx", environ={}).agent.web
    assert web.status_pages == (
        StatusPage("public", "Our services", ("Website",), "Hi"),
        StatusPage("all", "Everything", (), ""),
    )
    assert web.metrics_token == "0123456789abcdef-token"
    assert web.admin_password_file == "/srv/nyx/secrets/admin.txt"
    assert web.secure_cookies is True


def test_web_section_defaults_keep_pages_off_and_metrics_open() -> None:
    web = load_config_text(SERVICES, filename="t.yaml", environ={}).agent.web
    assert (web.status_pages, web.metrics_token, web.admin_password_file) == ((), None, None)
    assert web.secure_cookies is False
    assert web.trusted_proxies == ()


def test_trusted_proxies_are_normalised_networks() -> None:
    text = "web:\n  trusted_proxies: [127.0.0.1, 10.1.2.3/8, '::1', 'fd00::/8']\n" + SERVICES
    web = load_config_text(text, filename="t.yaml", environ={}).agent.web
    assert web.trusted_proxies == ("127.0.0.1/32", "10.0.0.0/8", "::1/128", "fd00::/8")


@pytest.mark.parametrize(
    ("web_yaml", "path", "fragment"),
    [
        pytest.param(
            "status_pages: [{slug: Bad Slug, title: x}]",
            "web.status_pages[0].slug",
            "expected a slug of lower-case letters, digits and '-' (at most 64, not starting or "
            "ending with '-'), got \"Bad Slug\"",
            id="slug-with-space",
        ),
        pytest.param(
            "status_pages: [{slug: a, title: '  '}]",
            "web.status_pages[0].title",
            "expected a non-empty title",
            id="blank-title",
        ),
        pytest.param(
            "status_pages: [{slug: a}]",
            "web.status_pages[0]",
            'missing required key "title"',
            id="missing-title",
        ),
        pytest.param(
            "status_pages: [{slug: a, title: A, servics: [Website]}]",
            "web.status_pages[0].servics",
            'unknown key "servics"; did you mean "services"?',
            id="typo",
        ),
        pytest.param(
            "metrics_token: short",
            "web.metrics_token",
            "expected a token of at least 16 characters",
            id="short-token",
        ),
        pytest.param(
            "secure_cookies: maybe",
            "web.secure_cookies",
            'expected true or false, got "maybe"',
            id="not-a-bool",
        ),
        pytest.param(
            "trusted_proxies: [127.0.0.1, 10.0.0.0/33]",
            "web.trusted_proxies[1]",
            "expected the IP address or CIDR network of a reverse proxy (127.0.0.1, 10.0.0.0/8, "
            '::1), got "10.0.0.0/33"',
            id="bad-proxy-network",
        ),
        pytest.param(
            "trusted_proxies: [localhost]",
            "web.trusted_proxies[0]",
            'got "localhost"',
            id="proxy-by-name",
        ),
        pytest.param(
            "trusted_proxies: 127.0.0.1",
            "web.trusted_proxies",
            "expected a list",
            id="proxies-not-a-list",
        ),
        pytest.param(
            "status_pages: [{slug: a, title: A}, {slug: a, title: B}]",
            "web.status_pages[1].slug",
            'duplicate status page slug "a": already used by web.status_pages[0] (line 2)',
            id="duplicate-slug",
        ),
    ],
)
def test_bad_web_values_are_refused_naming_the_key(web_yaml: str, path: str, fragment: str) -> None:
    issues = errors_of(f"web:\n  {web_yaml}\n" + SERVICES)
    assert [issue.path for issue in issues] == [path]
    assert fragment in issues[0].message
    assert issues[0].line == 2


def test_status_page_naming_an_unknown_service_loads_with_a_did_you_mean_warning() -> None:
    text = "web:\n  status_pages:\n    - {slug: a, title: A, services: [Webiste]}\n" + SERVICES
    config = load_config_text(text, filename="t.yaml", environ={})
    assert [(w.path, w.line) for w in config.warnings] == [("web.status_pages[0].services[0]", 3)]
    assert 'did you mean "Website"?' in config.warnings[0].message
