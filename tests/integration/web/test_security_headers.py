"""Every answer carries the security headers: a strict Content-Security-Policy, nosniff, a
same-origin referrer policy, and no framing but of status pages and badges; the answers the
public fast path serves from memory (and its 304s) too."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import requests
from tests.integration.web.conftest import WebEnv

from nyxmon.web.public.fast import PublicFastPath
from nyxmon.web.security_headers import CONTENT_SECURITY_POLICY

PAGES = "  status_pages:\n    - {slug: public, title: Our services}"
STRICT = {
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
}


@pytest.fixture
def site(start_web: Callable[..., WebEnv]) -> WebEnv:
    return start_web(web_yaml=PAGES)


def _fast_path(site: WebEnv) -> PublicFastPath:
    layer: Any = site.server.app.middleware_stack
    while not isinstance(layer, PublicFastPath):
        layer = layer.app
    return layer


def _policy(answer: requests.Response) -> set[str]:
    return {part.strip() for part in answer.headers["content-security-policy"].split(";")}


def _assert_common(answer: requests.Response) -> None:
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"
    policy = _policy(answer)
    assert policy >= STRICT, policy
    assert not any("unsafe" in part for part in policy), policy


def test_private_pages_get_the_strict_policy_and_no_framing(site: WebEnv) -> None:
    session = site.login()
    anonymous = requests.Session()
    answers = {
        "overview": session.get(site.url + "/"),
        "check page": session.get(site.url + "/checks/website.home"),
        "form": session.get(site.url + "/checks/new"),
        "account": session.get(site.url + "/account"),
        "API docs": session.get(site.url + "/api/v1/docs"),
        "login": anonymous.get(site.url + "/login"),
        "redirect": anonymous.get(site.url + "/", allow_redirects=False),
        "API error": anonymous.get(site.url + "/api/v1/checks"),
        "not found": session.get(site.url + "/no/such/page"),
    }
    for what, answer in answers.items():
        assert answer.status_code in (200, 303, 401, 404), (what, answer.status_code)
        _assert_common(answer)
        assert "frame-ancestors 'none'" in _policy(answer), what
        assert answer.headers["x-frame-options"] == "DENY", what
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_pages_hold_no_inline_script_or_style(site: WebEnv) -> None:
    session = site.login()
    for path in ("/", "/checks/website.home", "/checks/new", "/account", "/api/v1/docs"):
        html = session.get(site.url + path).text
        assert "<script>" not in html.replace(" ", ""), path
        assert " style=" not in html, path
        assert "<style" not in html, path
        assert not re.search(r"\son[a-z]+=", html), path
    for path in ("/login", "/status/public"):
        html = requests.get(site.url + path, timeout=10).text
        assert " style=" not in html, path
        assert "<script>" not in html.replace(" ", ""), path


def test_public_answers_from_memory_and_their_304s_carry_the_headers(site: WebEnv) -> None:
    first = requests.get(site.url + "/status/public", timeout=10)
    again = requests.get(site.url + "/status/public", timeout=10)  # from the fast path
    badge = requests.get(site.url + "/badge/website.home/status.svg", timeout=10)
    for answer in (first, again):
        assert answer.status_code == 200
        _assert_common(answer)
        assert "frame-ancestors 'none'" not in _policy(answer)  # status pages may be embedded
        assert "x-frame-options" not in answer.headers
        assert answer.headers["content-security-policy"].count("default-src") == 1
    _assert_common(badge)
    assert _fast_path(site).hits >= 1  # the second answer came from memory
    not_modified = requests.get(
        site.url + "/status/public", headers={"If-None-Match": again.headers["etag"]}, timeout=10
    )
    assert not_modified.status_code == 304
    _assert_common(not_modified)
