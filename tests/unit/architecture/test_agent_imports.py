"""What ``nyxmon run`` loads before its first probe: no probe's client library (seed 001's
lazy registry), no web framework (the dashboard has a process of its own) and no Apprise
(imported when an Apprise route is built), no Jinja2 (imported with the first message). Each of
them costs the agent megabytes of RSS."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: Loaded only by the probe (or provider) that needs it.
LAZY = (
    "aiomysql",
    "aiormq",
    "apprise",
    "cryptography",
    "dns.asyncquery",
    "fastapi",
    "gmqtt",
    "grpc",
    "jinja2",
    "nats",
    "psycopg",
    "pycurl",
    "redis",
    "starlette",
    "uvicorn",
)

_PROGRAM = """
import json, sys
import nyxmon.cli.app, nyxmon.cli.run, nyxmon.bootstrap
from nyxmon.probes.registry import builtin_registry
builtin_registry()
print(json.dumps(sorted(sys.modules)))
"""


@pytest.fixture(scope="module")
def loaded() -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", _PROGRAM], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("package", LAZY)
def test_the_agent_starts_without_loading(loaded: set[str], package: str) -> None:
    assert package not in loaded


def test_the_agent_loads_its_own_modules(loaded: set[str]) -> None:
    # the check that the list above means something: the agent's own parts are there
    assert {"nyxmon.bootstrap", "nyxmon.agent.agent", "nyxmon.probes.registry"} <= loaded


_PROBES_PROGRAM = """
import json, sys
import nyxmon.probes.tls, nyxmon.probes.redis, nyxmon.probes.mysql, nyxmon.probes.grpc
print(json.dumps(sorted(sys.modules)))
"""


@pytest.fixture(scope="module")
def probes_loaded() -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBES_PROGRAM],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "package", ["cryptography", "redis", "opentelemetry", "psutil", "google.protobuf"]
)
def test_the_tls_redis_mysql_and_grpc_probes_run_without_loading(
    probes_loaded: set[str], package: str
) -> None:
    # tls reads certificates itself, redis speaks RESP itself, PyMySQL waits for an RSA login,
    # grpc writes and reads its two health messages itself
    assert package not in probes_loaded
