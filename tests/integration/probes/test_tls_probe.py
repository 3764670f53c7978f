"""The tls probe against real TLS servers on 127.0.0.1: chain, host name, expiry, STARTTLS."""

from __future__ import annotations

import datetime
import gc
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from tests.servers.checks import make_check
from tests.servers.line_servers import LineServer
from tests.servers.smtp_receiver import SmtpReceiver
from tests.servers.tls import TlsMaterial, make_tls_material

from nyxmon.checktypes.tls import TlsSpec
from nyxmon.domain.model import Outcome, Result
from nyxmon.probes.registry import ExecutorRegistry

pytestmark = pytest.mark.anyio


async def probe(registry: ExecutorRegistry, params: dict[str, Any], *conditions: str) -> Result:
    check = make_check("tls", params, *conditions, check_id="net.tls")
    return await registry.get("tls").execute(check, time.time())


def tls_server(material: TlsMaterial) -> LineServer:
    return LineServer("banner", tls_context=material.server_context(), implicit_tls=True)


async def test_a_valid_certificate_passes_with_its_details_and_days_left(
    registry: ExecutorRegistry, tls: TlsMaterial
) -> None:
    async with tls_server(tls) as server:
        result = await probe(
            registry,
            {"host": "127.0.0.1", "port": server.port, "ca_file": str(tls.ca_file)},
            "[CERTIFICATE_EXPIRATION] > 48h",
        )
    assert result.outcome is Outcome.OK, result.message
    details = result.details
    assert details["chain_valid"] is True
    assert details["hostname_match"] is True
    assert details["tls_version"] in ("TLSv1.2", "TLSv1.3")
    assert details["cipher"]
    assert "127.0.0.1" in details["names"]
    assert "localhost" in details["names"]
    assert "trustme" in details["issuer"]
    assert details["cert_days_left"] > 300
    assert f"{round(details['cert_days_left'])} days more" in result.message
    assert {"connect", "tls", "total"} <= set(result.timings)


async def test_an_expired_certificate_fails_saying_how_long_ago(
    registry: ExecutorRegistry, tmp_path: Path
) -> None:
    expired = make_tls_material(tmp_path, valid_for=datetime.timedelta(days=-3))
    async with tls_server(expired) as server:
        base = {"host": "127.0.0.1", "port": server.port}
        verified = await probe(registry, {**base, "ca_file": str(expired.ca_file)})
        unverified = await probe(registry, {**base, "verify_tls": False})
    for result in (verified, unverified):
        assert result.outcome is Outcome.FAIL
        assert "certificate expired 3.0 days ago" in result.message
        assert result.details["cert_days_left"] < -2.9
    assert verified.details["chain_valid"] is False
    assert "chain_valid" not in unverified.details


async def test_a_certificate_for_another_host_fails_naming_the_names_it_carries(
    registry: ExecutorRegistry, tls: TlsMaterial
) -> None:
    async with tls_server(tls) as server:
        result = await probe(
            registry,
            {
                "host": "127.0.0.1",
                "port": server.port,
                "ca_file": str(tls.ca_file),
                "server_name": "other.example",
            },
        )
    assert result.outcome is Outcome.FAIL
    assert "certificate rejected" in result.message
    assert "other.example" in result.message
    assert "issued for localhost" in result.message
    assert result.details["hostname_match"] is False


async def test_an_untrusted_chain_fails(
    registry: ExecutorRegistry, tls: TlsMaterial, other_tls: TlsMaterial
) -> None:
    async with tls_server(tls) as server:
        result = await probe(
            registry, {"host": "127.0.0.1", "port": server.port, "ca_file": str(other_tls.ca_file)}
        )
    assert result.outcome is Outcome.FAIL
    assert "unable to get local issuer certificate" in result.message
    assert result.details["chain_valid"] is False


async def test_within_warn_days_the_check_is_degraded_and_says_the_days_left(
    registry: ExecutorRegistry, tmp_path: Path
) -> None:
    soon = make_tls_material(tmp_path, valid_for=datetime.timedelta(days=12, hours=1))
    async with tls_server(soon) as server:
        base = {"host": "127.0.0.1", "port": server.port, "ca_file": str(soon.ca_file)}
        warned = await probe(registry, {**base, "warn_days": 30})
        calm = await probe(registry, {**base, "warn_days": 7})
    assert warned.outcome is Outcome.OK
    assert warned.degraded is True
    assert warned.message.startswith("certificate expires in 12 days (warning at 30 days)")
    assert calm.outcome is Outcome.OK
    assert calm.degraded is False


async def test_a_server_without_tls_and_a_refused_port_are_errors(
    registry: ExecutorRegistry,
) -> None:
    async with LineServer("banner") as plain:
        no_tls = await probe(registry, {"host": "127.0.0.1", "port": plain.port})
    refused = await probe(registry, {"host": "127.0.0.1", "port": plain.port})
    assert no_tls.outcome is Outcome.ERROR
    assert "TLS handshake" in no_tls.message
    assert refused.outcome is Outcome.ERROR
    assert "Connection refused" in refused.message


# aiosmtpd leaves its own (server-side) socket of a STARTTLS session unclosed when the client
# drops the connection after the handshake; the warning names the server's port, not ours.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_smtp_starttls_with_aiosmtpd(registry: ExecutorRegistry, tls: TlsMaterial) -> None:
    with SmtpReceiver(tls_context=tls.server_context()) as smtp:
        result = await probe(
            registry,
            {
                "host": smtp.host,
                "port": smtp.port,
                "starttls": "smtp",
                "ca_file": str(tls.ca_file),
                "min_version": "TLSv1.2",
            },
        )
    gc.collect()  # let aiosmtpd's leaked socket be reported (and ignored) here
    assert result.outcome is Outcome.OK, result.message


@pytest.mark.parametrize("protocol", ["imap", "pop3", "ftp"])
async def test_starttls_of_the_mail_and_ftp_protocols(
    registry: ExecutorRegistry, tls: TlsMaterial, protocol: Any
) -> None:
    async with LineServer(protocol, tls_context=tls.server_context()) as server:
        result = await probe(
            registry,
            {
                "host": "localhost",
                "port": server.port,
                "starttls": protocol,
                "ca_file": str(tls.ca_file),
            },
        )
    assert result.outcome is Outcome.OK, result.message
    assert result.details["hostname_match"] is True


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param({"host": "x.test", "warn_days": -1}, "greater than or equal to 0", id="warn"),
        pytest.param(
            {"host": "x.test", "verify_tls": False, "ca_file": "/x.pem"},
            "ca_file has no effect with verify_tls: false",
            id="ca-without-verify",
        ),
        pytest.param({"host": "x.test", "min_version": "SSLv3"}, "min_version", id="version"),
    ],
)
def test_bad_tls_params_are_refused(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TlsSpec.model_validate(params)
