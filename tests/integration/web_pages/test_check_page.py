"""The check page against a running agent: why a run failed, per-phase timings, incidents,
settings with secrets masked, and the actions (run, pause, resume, delete) with CSRF."""

from __future__ import annotations

import re

import requests
from tests.integration.web_pages.harness import Running, wait_for
from tests.servers.http_target import ThreadedHttpTarget

from nyxmon.domain.history.figures import DAY, WINDOWS, Availability
from nyxmon.domain.model import Check, Outcome, Result
from nyxmon.service_layer.records.results import StoredResult
from nyxmon.web.pages.check_detail import CheckDetail, RecentPage, phase_columns, phase_row
from nyxmon.web.pages.check_page import default_window


def test_a_failing_check_shows_why_with_its_failing_conditions(
    nyx: Running, session: requests.Session
) -> None:
    page = session.get(nyx.url + "/checks/website.broken")
    assert page.status_code == 200
    html = page.text
    assert 'id="live-website.broken" data-check="website.broken"' in html
    assert 'class="badge big s-down" data-field="state">Down<' in html
    failing = re.search(r'<section id="failing" class="panel failing".*?</section>', html, re.S)
    assert failing is not None
    assert "Failing conditions" in failing.group(0)
    assert "<code>[STATUS] (503) == 200</code>" in failing.group(0)
    incidents = re.search(r'id="incidents-h".*?</section>', html, re.S)
    assert incidents is not None
    assert "Ongoing" in incidents.group(0)
    assert 'data-series-url="/api/v1/checks/website.broken/series"' in html
    assert "vendor/uplot/uPlot.iife.min.js" in html
    assert "This check comes from the config file" in html


def test_recent_http_results_show_each_phase(nyx: Running, session: requests.Session) -> None:
    page = session.get(nyx.url + "/checks/website.home").text
    assert "Why the last run failed" not in page
    recent = re.search(r'<section id="recent".*?</section>', page, re.S)
    assert recent is not None
    header = re.findall(r'<th scope="col" class="num">([^<]+)</th>', recent.group(0))
    assert header[-1] == "Total"
    assert "Connect" in header
    assert "First byte" in header
    assert recent.group(0).count('<span class="badge s-up">ok') >= 1
    assert 'class="ph-connect"' in recent.group(0)
    assert 'class="ph-transfer"' in recent.group(0)
    fragment = session.get(nyx.url + "/checks/website.home/recent")
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="recent"')


def test_unknown_checks_are_a_404_page(nyx: Running, session: requests.Session) -> None:
    for path in ("/checks/no.such", "/checks/no.such/recent"):
        answer = session.get(nyx.url + path, headers={"Accept": "text/html"})
        assert answer.status_code == 404
        assert "no.such" in answer.text


def test_secrets_of_a_check_are_masked_on_its_page(
    nyx: Running, session: requests.Session, target: ThreadedHttpTarget
) -> None:
    body = {
        "service": "Vault",
        "check": {
            "name": "api",
            "type": "http",
            "url": target.url("/bearer"),
            "bearer_token": "s3cret-token",
            "headers": {"X-Api-Key": "k3y-hidden-too", "Authorization": "Basic hidden"},
        },
    }
    created = session.post(nyx.url + "/api/v1/checks", json=body)
    assert created.status_code == 201, created.text
    html = session.get(nyx.url + "/checks/vault.api").text
    for secret in ("s3cret-token", "Basic hidden", "k3y-hidden-too"):
        assert secret not in html
    assert 'bearer_token</dt><dd class="mono">••••••' in html
    edit = session.get(nyx.url + "/checks/vault.api/edit").text
    # The edit form holds the mask, never the secret; the mask submitted back keeps it.
    for secret in ("s3cret-token", "Basic hidden", "k3y-hidden-too"):
        assert secret not in edit
    assert re.search(
        r'<input id="f-bearer_token" name="bearer_token" value="\*{8}"\s+type="password"', edit
    )


def test_actions_pause_resume_run_and_delete_need_the_csrf_token(
    nyx: Running, session: requests.Session, target: ThreadedHttpTarget
) -> None:
    body = {"service": "Ops", "check": {"name": "ping", "type": "http", "url": target.url("/")}}
    assert session.post(nyx.url + "/api/v1/checks", json=body).status_code == 201
    token = {"csrf_token": session.csrf}  # type: ignore[attr-defined]
    bare = requests.Session()
    bare.cookies.update(session.cookies)
    refused = bare.post(nyx.url + "/checks/ops.ping/pause", allow_redirects=False)
    assert refused.status_code == 403
    assert not nyx.agent.store.get_check("ops.ping").paused

    paused = bare.post(nyx.url + "/checks/ops.ping/pause", data=token, allow_redirects=False)
    assert paused.status_code == 303
    assert paused.headers["location"] == "/checks/ops.ping?done=paused"
    assert nyx.agent.store.get_check("ops.ping").paused
    page = bare.get(nyx.url + paused.headers["location"]).text
    assert "Check paused" in page
    assert ">Resume</button>" in page
    assert "Run now" not in page

    resumed = bare.post(nyx.url + "/checks/ops.ping/resume", data=token, allow_redirects=False)
    assert resumed.status_code == 303
    assert not nyx.agent.store.get_check("ops.ping").paused

    before = nyx.agent.store.count_results("ops.ping")
    ran = bare.post(nyx.url + "/checks/ops.ping/run", data=token, allow_redirects=False)
    assert ran.status_code == 303
    assert nyx.agent.store.count_results("ops.ping") >= before  # recorded as usual
    wait_for(lambda: nyx.agent.store.count_results("ops.ping") > before, what="the run's result")

    unknown = bare.post(nyx.url + "/checks/ops.ping/explode", data=token, allow_redirects=False)
    assert unknown.status_code == 422

    deleted = bare.post(nyx.url + "/checks/ops.ping/delete", data=token, allow_redirects=False)
    assert deleted.status_code == 303
    assert deleted.headers["location"] == "/"
    assert nyx.agent.store.get_check("ops.ping") is None


def _stored(timings: dict[str, float], total: float = 0.1, ok: bool = True) -> StoredResult:
    outcome = Outcome.OK if ok else Outcome.FAIL
    return StoredResult(1, Result("a.b", 0.0, 0.0, total, outcome, timings=timings))


def test_phase_segments_split_the_time_to_first_byte_and_the_transfer() -> None:
    row = phase_row(
        _stored({"dns": 0.01, "connect": 0.02, "tls": 0.03, "first_byte": 0.08, "total": 0.1})
    )
    names = [name for name, _, _ in row.segments]
    assert names == ["dns", "connect", "tls", "wait", "transfer"]
    seconds = {name: round(s, 6) for name, _, s in row.segments}
    assert seconds == {"dns": 0.01, "connect": 0.02, "tls": 0.03, "wait": 0.02, "transfer": 0.02}
    assert abs(sum(share for _, share, _ in row.segments) - 1.0) < 1e-9
    dns = phase_row(_stored({"query": 0.004, "total": 0.005}, total=0.005))
    assert [name for name, _, _ in dns.segments] == ["query"]
    empty = phase_row(_stored({}, total=0.0, ok=False))
    assert empty.segments == ()
    columns = phase_columns([row, dns, phase_row(_stored({"zz": 1.0}))])
    assert columns == ["dns", "connect", "tls", "first_byte", "query", "zz", "total"]


def _detail(interval: float, runs_24h: int) -> CheckDetail:
    check = Check("a.b", "A", "b", "http", interval, 1.0)
    figures = {
        name: Availability("a.b", 0.0, seconds, runs_24h, runs_24h, 0, 100.0, *([None] * 6))
        for name, seconds in WINDOWS.items()
    }
    return CheckDetail(check, None, RecentPage([], [], None, None), figures, [], None, DAY)


def test_new_checks_open_their_chart_on_the_last_hour() -> None:
    assert default_window(_detail(60.0, 10)) == "1h"
    assert default_window(_detail(60.0, 1440)) == "24h"
    assert default_window(_detail(60.0, 360)) == "24h"
    assert default_window(_detail(0.5, 100_000)) == "24h"
