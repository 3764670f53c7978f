"""Real peers for the probe tests: the HTTP(S) target, the DNS server, TLS material and a
listener that never answers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tests.servers.dns_server import DnsTestServer
from tests.servers.http_target import HttpTarget, serve_http_target
from tests.servers.sockets import silent_listener
from tests.servers.tls import TlsMaterial, make_tls_material

from nyxmon.probes.registry import ExecutorRegistry, builtin_registry


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsMaterial:
    """A CA and a localhost certificate it signed; probes trust it via ``ca_file``."""
    return make_tls_material(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def other_tls(tmp_path_factory: pytest.TempPathFactory) -> TlsMaterial:
    """An unrelated CA: trusting it instead of ``tls`` must make verification fail."""
    return make_tls_material(tmp_path_factory.mktemp("other-tls"), name="other-ca")


@pytest.fixture
async def http_target() -> AsyncIterator[HttpTarget]:
    async with serve_http_target() as target:
        yield target


@pytest.fixture
async def https_target(tls: TlsMaterial) -> AsyncIterator[HttpTarget]:
    async with serve_http_target(ssl_context=tls.server_context()) as target:
        yield target


@pytest.fixture
def dns_server() -> Iterator[DnsTestServer]:
    with DnsTestServer() as server:
        yield server


@pytest.fixture
async def registry() -> AsyncIterator[ExecutorRegistry]:
    registry = builtin_registry()
    try:
        yield registry
    finally:
        await registry.aclose_all()


@pytest.fixture
def missing_file(tmp_path: Path) -> Path:
    return tmp_path / "does-not-exist.pem"


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections and never answers: probes of it must time out."""
    with silent_listener() as port:
        yield port
