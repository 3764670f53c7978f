"""Every network check type through every door, run by the real agent against real local peers:
added with the dashboard's form (fields from the type's schema) it comes UP, changed through the
API to a dead target it goes DOWN, added with ``nyxmon check add --type`` (a subprocess on the
agent's database) it comes UP too; bad input is refused at the field / option it came from."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from tests.integration.web_pages.harness import Running, running_nyxmon, wait_for
from tests.servers.line_servers import LineServer
from tests.servers.smtp_receiver import SmtpReceiver
from tests.servers.tls import TlsMaterial, make_tls_material
from tests.servers.udp_responder import UdpResponder

from nyxmon.checktypes import CHECK_TYPES

NET_TYPES = ["ftp", "icmp", "imap", "pop3", "smtp", "ssh", "tcp", "tls", "udp"]


def closed_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def peers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, tuple[dict[str, Any], dict[str, Any]]]]:
    """Per type: (params of a check that is UP against a live peer, params of one that is DOWN)."""
    tls: TlsMaterial = make_tls_material(tmp_path_factory.mktemp("net-tls"))
    ctx = tls.server_context()
    dead = str(closed_port())
    with (
        LineServer("banner").in_thread() as banner,
        LineServer("banner", tls_context=ctx, implicit_tls=True).in_thread() as secure,
        LineServer("imap", tls_context=ctx, username="nyx", password="pw").in_thread() as imap,
        LineServer("pop3").in_thread() as pop3,
        LineServer("ftp").in_thread() as ftp,
        LineServer("ssh").in_thread() as ssh,
        UdpResponder(reply=b"pong").in_thread() as udp,
        SmtpReceiver() as smtp,
    ):
        local = {"host": "127.0.0.1"}
        yield {
            "tcp": ({**local, "port": str(banner.port), "expect": "220"}, {"port": dead}),
            "tls": (
                {**local, "port": str(secure.port), "ca_file": str(tls.ca_file), "warn_days": "7"},
                {"port": dead},
            ),
            "imap": (
                {
                    **local,
                    "port": str(imap.port),
                    "tls": "starttls",
                    "ca_file": str(tls.ca_file),
                    "username": "nyx",
                    "password": "pw",
                },
                {"password": "wrong"},
            ),
            "pop3": ({**local, "port": str(pop3.port)}, {"port": dead}),
            "ftp": ({**local, "port": str(ftp.port), "expect_banner": "FTP"}, {"port": dead}),
            "ssh": ({**local, "port": str(ssh.port)}, {"protocol_version": "1.5"}),
            "smtp": ({**local, "port": str(smtp.port)}, {"port": dead}),
            "udp": (
                {**local, "port": str(udp.port), "payload": "ping", "expect_regex": "^pong$"},
                {"port": str(closed_port(socket.SOCK_DGRAM))},
            ),
            "icmp": (
                {**local, "count": "2", "packet_interval": "100ms", "reply_wait": "400ms"},
                {"host": "100::1"},  # RFC 6666 discard-only prefix: nothing ever answers
            ),
        }


@pytest.fixture(scope="module")
def netnyx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    folder: Path = tmp_path_factory.mktemp("netnyx")
    config = "services:\n  - name: Seed\n    checks: []\n"
    with running_nyxmon(
        folder, config, alert="{failure_threshold: 1, success_threshold: 1}"
    ) as running:
        yield running


def state_of(nyx: Running, check_id: str) -> str | None:
    status = nyx.agent.control.statuses().get(check_id)
    return None if status is None else status.state


def wait_state(nyx: Running, check_id: str, state: str) -> None:
    wait_for(lambda: state_of(nyx, check_id) == state, timeout=30, what=f"{check_id} {state}")


@pytest.mark.parametrize("type_name", NET_TYPES)
def test_each_type_via_form_api_and_cli_is_run_by_the_agent_up_and_down(
    netnyx: Running,
    peers: dict[str, tuple[dict[str, Any], dict[str, Any]]],
    type_name: str,
) -> None:
    up, down = peers[type_name]
    session: requests.Session = netnyx.login()
    form_page = session.get(netnyx.url + f"/checks/new?type={type_name}")
    assert form_page.status_code == 200
    for field in CHECK_TYPES[type_name].params.model_fields:
        assert f'name="{field}"' in form_page.text, f"{type_name} form lacks {field}"

    added = session.post(
        netnyx.url + "/checks/new",
        data={
            "csrf_token": session.csrf,  # type: ignore[attr-defined]
            "type": type_name,
            "enabled": "true",
            "service": "Net",
            "name": f"{type_name} form",
            "interval": "2s",
            "timeout": "1500ms",
            # checkboxes shown ticked (their default) are sent ticked, as a browser does
            **{name: "true" for name in ("verify_tls",) if f'name="{name}"' in form_page.text},
            **up,
        },
        allow_redirects=False,
    )
    assert added.status_code == 303, re.findall(
        r'class="(?:field-error|form-error)[^"]*">(.*?)<', added.text
    )
    check_id = f"net.{type_name}-form"
    wait_state(netnyx, check_id, "up")

    api = session.get(netnyx.url + f"/api/v1/checks/{check_id}")
    assert api.status_code == 200
    body = api.json()
    assert body["type"] == type_name
    body["params"] = {**body["params"], **{k: _typed(v) for k, v in down.items()}}
    replaced = session.put(netnyx.url + f"/api/v1/checks/{check_id}", json=body)
    assert replaced.status_code == 200, replaced.text
    wait_state(netnyx, check_id, "down")

    bad = dict(body, params={**body["params"], "port": 70_000})
    refused = session.put(netnyx.url + f"/api/v1/checks/{check_id}", json=bad)
    assert refused.status_code == 422
    assert "params.port" in refused.text
    kept = session.get(netnyx.url + f"/api/v1/checks/{check_id}").json()["params"]
    assert kept == replaced.json()["params"]  # as replaced (a password shown masked both times)

    db = netnyx.folder / "nyxmon.db"
    sets = [f"--set={key}={value}" for key, value in up.items()]
    cli = _nyxmon(
        "check",
        "add",
        "--db",
        str(db),
        "--service",
        "Net",
        "--name",
        f"{type_name} cli",
        "--type",
        type_name,
        "--interval",
        "2s",
        "--timeout",
        "1500ms",
        *sets,
    )
    assert cli.returncode == 0, cli.stderr
    wait_state(netnyx, f"net.{type_name}-cli", "up")

    wrong = _nyxmon(
        "check",
        "add",
        "--db",
        str(db),
        "--service",
        "Net",
        "--name",
        "x",
        "--type",
        type_name,
        *sets,
        "--set",
        "host=not a host",
    )
    assert wrong.returncode == 1
    assert "--set host" in wrong.stderr


def _typed(value: str) -> Any:
    return int(value) if value.isdigit() else value


def _nyxmon(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nyxmon", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
