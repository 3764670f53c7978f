"""What ``nyxmon run`` loads before its first probe: no probe's client library (seed 001's
lazy registry), no web framework (the dashboard has a process of its own), no Apprise or aiohttp
(imported when a route of theirs is built), no Jinja2 (imported with the first message). Each of
them costs the agent megabytes of RSS; the CLI goes without them too, and starts faster."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: Loaded only by the probe (or provider) that needs it.
LAZY = (
    "aiohttp",
    "aiomysql",
    "aiormq",
    "apprise",
    "cryptography",
    "dns.asyncquery",
    "fastapi",
    "gmqtt",
    "grpc",
    "h2",
    "hpack",
    "jinja2",
    "nats",
    "prometheus_client",  # only the process serving /metrics renders its format
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


_CLI_PROGRAM = "import json, sys, nyxmon.cli; print(json.dumps(sorted(sys.modules)))"

#: What the CLI's start (``nyxmon --help``, ``nyxmon ping run`` from a cron job) goes without.
CLI_LAZY = ("aiohttp", "apprise", "fastapi", "jinja2", "nyxmon.web.live", "starlette", "uvicorn")


def test_the_cli_starts_without_the_web_plane_or_the_notifiers_clients() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _CLI_PROGRAM],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert "nyxmon.cli.app" in loaded
    assert sorted(loaded & set(CLI_LAZY)) == []


def test_the_version_is_answered_without_importing_any_subcommand() -> None:
    program = (
        "import json, sys\nfrom nyxmon.cli import main\nsys.argv = ['nyxmon', '--version']\n"
        "try:\n    main()\nfinally:\n    print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=120
    )
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("nyxmon ")
    loaded = set(json.loads(lines[-1]))
    assert "nyxmon.cli.app" in loaded
    assert sorted(m for m in loaded if m.startswith("nyxmon.cli.") and m != "nyxmon.cli.app") == []


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
    "package", ["cryptography", "redis", "opentelemetry", "psutil", "google.protobuf", "grpc"]
)
def test_the_tls_redis_mysql_and_grpc_probes_run_without_loading(
    probes_loaded: set[str], package: str
) -> None:
    # tls reads certificates itself, redis speaks RESP itself, PyMySQL waits for an RSA login,
    # grpc writes and reads its two health messages itself, over h2 rather than grpcio
    assert package not in probes_loaded
