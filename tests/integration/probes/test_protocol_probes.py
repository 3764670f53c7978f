"""The smtp, imap, pop3, ftp and ssh probes against real servers on 127.0.0.1: aiosmtpd for SMTP,
the small asyncio servers of tests/servers/line_servers.py for the others."""

from __future__ import annotations

import gc
import socket
import time
from typing import Any

import pytest
from pydantic import ValidationError
from tests.servers.checks import make_check
from tests.servers.line_servers import LineServer
from tests.servers.smtp_receiver import SmtpReceiver
from tests.servers.tls import TlsMaterial

from nyxmon.checktypes import CHECK_TYPES
from nyxmon.domain.model import Outcome, Result
from nyxmon.probes.registry import ExecutorRegistry

pytestmark = pytest.mark.anyio

LINE_PROTOCOLS = ["imap", "pop3", "ftp"]


async def probe(
    registry: ExecutorRegistry,
    type_name: str,
    params: dict[str, Any],
    *conditions: str,
    check_timeout: float = 5.0,
) -> Result:
    check = make_check(type_name, params, *conditions, check_id="mail.x", timeout=check_timeout)
    return await registry.get(type_name).execute(check, time.time())


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("protocol", LINE_PROTOCOLS)
async def test_greeting_and_capabilities_pass_with_the_banner_as_body(
    registry: ExecutorRegistry, protocol: Any
) -> None:
    async with LineServer(protocol) as server:
        result = await probe(
            registry,
            protocol,
            {"host": "127.0.0.1", "port": server.port, "expect_banner": "test .* ready"},
            "[BODY] == pat(*ready*)",
            "[CONNECTED] == true",
        )
    assert result.outcome is Outcome.OK, result.message
    assert "ready" in result.details["banner"]
    assert result.details["capabilities"]
    assert {"connect", "banner", "total"} <= set(result.timings)


@pytest.mark.parametrize("protocol", LINE_PROTOCOLS)
async def test_starttls_and_login_succeed_and_a_wrong_password_fails(
    registry: ExecutorRegistry, tls: TlsMaterial, protocol: Any
) -> None:
    server = LineServer(protocol, tls_context=tls.server_context(), username="nyx", password="pw")
    async with server:
        base = {
            "host": "127.0.0.1",
            "port": server.port,
            "tls": "starttls",
            "ca_file": str(tls.ca_file),
            "username": "nyx",
        }
        good = await probe(registry, protocol, {**base, "password": "pw"})
        bad = await probe(registry, protocol, {**base, "password": "s3cret-wrong"})
    assert good.outcome is Outcome.OK, good.message
    assert "logged in as nyx" in good.message
    assert "over TLS" in good.message
    assert {"tls", "login"} <= set(good.timings)
    assert good.details["cert_days_left"] > 300
    assert bad.outcome is Outcome.FAIL
    assert "login as nyx refused" in bad.message
    assert "s3cret-wrong" not in bad.message
    assert server.logins == ["nyx"]
    assert server.rejected_logins == 1


@pytest.mark.parametrize("protocol", LINE_PROTOCOLS)
async def test_implicit_tls_with_a_wrong_host_name_is_rejected(
    registry: ExecutorRegistry, tls: TlsMaterial, protocol: Any
) -> None:
    server = LineServer(protocol, tls_context=tls.server_context(), implicit_tls=True)
    async with server:
        base = {"host": "127.0.0.1", "port": server.port, "tls": "implicit"}
        good = await probe(registry, protocol, {**base, "ca_file": str(tls.ca_file)})
        wrong = await probe(
            registry,
            protocol,
            {**base, "ca_file": str(tls.ca_file), "server_name": "mail.other.example"},
        )
    assert good.outcome is Outcome.OK, good.message
    assert wrong.outcome is Outcome.ERROR
    assert "rejected" in wrong.message


@pytest.mark.parametrize(
    ("protocol", "banner"),
    [
        pytest.param("imap", b"* BYE too busy\r\n", id="imap"),
        pytest.param("pop3", b"-ERR maintenance\r\n", id="pop3"),
        pytest.param("ftp", b"421 too many users\r\n", id="ftp"),
        pytest.param("ftp", b"HTTP/1.1 400 Bad Request\r\n", id="ftp-not-ftp"),
        pytest.param("ssh", b"220 this is smtp\r\n", id="ssh-not-ssh"),
    ],
)
async def test_a_bad_banner_fails_quoting_it(
    registry: ExecutorRegistry, protocol: Any, banner: bytes
) -> None:
    async with LineServer(protocol, banner=banner) as server:
        result = await probe(registry, protocol, {"host": "127.0.0.1", "port": server.port})
    assert result.outcome is Outcome.FAIL
    shown = banner.decode().strip().split(" ", 1)[-1]
    assert shown in result.message


@pytest.mark.parametrize("protocol", [*LINE_PROTOCOLS, "smtp", "ssh"])
async def test_refused_and_silent_servers_are_error_and_timeout(
    registry: ExecutorRegistry, protocol: Any
) -> None:
    port = closed_port()
    refused = await probe(registry, protocol, {"host": "127.0.0.1", "port": port})
    async with LineServer("banner", silent=True) as silent:
        quiet = await probe(
            registry, protocol, {"host": "127.0.0.1", "port": silent.port}, check_timeout=0.5
        )
    assert refused.outcome is Outcome.ERROR
    assert refused.message == f"cannot connect to 127.0.0.1:{port}: Connection refused"
    assert quiet.outcome is Outcome.TIMEOUT
    assert "reading the" in quiet.message


async def test_starttls_not_offered_fails_naming_it(registry: ExecutorRegistry) -> None:
    async with LineServer("imap") as server:  # no TLS context: CAPABILITY lacks STARTTLS
        result = await probe(
            registry, "imap", {"host": "127.0.0.1", "port": server.port, "tls": "starttls"}
        )
    assert result.outcome is Outcome.FAIL
    assert result.message == f"IMAP server 127.0.0.1:{server.port} does not offer STARTTLS"


# aiosmtpd leaves its own (server-side) socket of a STARTTLS session unclosed when the client
# drops the connection; the warning names the server's port, not ours.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_smtp_against_aiosmtpd_ehlo_starttls_and_login(
    registry: ExecutorRegistry, tls: TlsMaterial
) -> None:
    with SmtpReceiver(username="nyx", password="pw", tls_context=tls.server_context()) as smtp:
        base = {"host": smtp.host, "port": smtp.port}
        plain = await probe(registry, "smtp", base, "[BODY] == pat(*SMTP*)")
        secured = await probe(
            registry,
            "smtp",
            {
                **base,
                "tls": "starttls",
                "ca_file": str(tls.ca_file),
                "username": "nyx",
                "password": "pw",
            },
        )
        wrong = await probe(
            registry, "smtp", {**base, "username": "nyx", "password": "s3cret-wrong"}
        )
        rejected_logins = smtp.rejected_logins
    gc.collect()
    assert plain.outcome is Outcome.OK, plain.message
    assert "STARTTLS" in plain.details["capabilities"]
    assert secured.outcome is Outcome.OK, secured.message
    assert "logged in as nyx" in secured.message
    assert wrong.outcome is Outcome.FAIL
    assert "login as nyx refused" in wrong.message
    assert "535" in wrong.message
    assert "s3cret-wrong" not in wrong.message
    assert rejected_logins == 1


async def test_ssh_reports_protocol_and_software_and_refuses_other_versions(
    registry: ExecutorRegistry,
) -> None:
    async with LineServer("ssh") as good_server:
        good = await probe(registry, "ssh", {"host": "127.0.0.1", "port": good_server.port})
    async with LineServer("ssh", banner=b"SSH-1.5-ancient\r\n") as old_server:
        old = await probe(registry, "ssh", {"host": "127.0.0.1", "port": old_server.port})
    async with LineServer("ssh", banner=b"hello\r\nSSH-1.99-both\r\n") as both_server:
        both = await probe(registry, "ssh", {"host": "127.0.0.1", "port": both_server.port})
    assert good.outcome is Outcome.OK, good.message
    assert good.details["ssh_protocol"] == "2.0"
    assert good.details["ssh_software"] == "OpenSSH_9.2p1"
    assert old.outcome is Outcome.FAIL
    assert "speaks protocol 1.5, expected 2.0" in old.message
    assert both.outcome is Outcome.OK, both.message


@pytest.mark.parametrize(
    ("type_name", "params", "message"),
    [
        pytest.param("smtp", {"host": "x.test", "helo_name": "a b"}, "helo_name", id="helo"),
        pytest.param("imap", {"host": "x.test", "password": "p"}, "needs a username", id="pw"),
        pytest.param("pop3", {"host": "x.test", "tls": "ssl"}, "tls", id="mode"),
        pytest.param(
            "ftp", {"host": "x.test", "server_name": "y"}, "no effect with tls: none", id="sni"
        ),
        pytest.param("ssh", {"host": "x.test", "expect_banner": "("}, "regular", id="regex"),
        pytest.param("ssh", {"host": "x.test", "tls": "implicit"}, "Extra inputs", id="no-tls"),
    ],
)
def test_bad_protocol_params_are_refused(
    type_name: str, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        CHECK_TYPES[type_name].params.model_validate(params)
