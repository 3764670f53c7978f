"""PostgreSQL going away under a running agent: the server restarted mid-run, and the network
link to it down for 30 s (issue 17's fault tests), each shorter than the agent's check leases
(an agent that cannot renew a lease for longer stops probing that check: another agent may
have taken it over).

Each runs a real ``nyxmon run`` on a private PostgreSQL cluster (password logins, never the
shared server, which other tests use meanwhile) and asserts what a user relies on: the agent
keeps probing, says on /healthz that its writes fail while /livez stays 200 (no reason to
restart it), holds the results meanwhile (bounded: ``results_dropped`` counts any it had to
drop), writes them all once the database is back, and no run of any check is missing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nyxmon.store.postgres import PostgresStore
from tests.reliability.conftest import Agent, config_text, write_fault_round_trip
from tests.servers.http_target import HttpTarget
from tests.servers.netns import NetnsPair, netns_available
from tests.servers.postgres_cluster import PrivatePostgres

SECRET = "s3cret-for-faults"


def _http_checks(url: str, count: int) -> str:
    checks = "".join(f"      - {{name: c{i}, type: http, url: '{url}'}}\n" for i in range(count))
    return f"  - name: web\n    checks:\n{checks}"


def scheduled_times(dsn: str) -> dict[str, list[float]]:
    """Each check's stored runs (``scheduled_at``), ascending, read through the store."""
    times: dict[str, list[float]] = {}
    try:
        with PostgresStore(dsn, readonly=True, readers=1) as store:
            for check in store.list_checks().items:
                found, cursor = [], None
                while True:
                    page = store.results(check.id, limit=1000, after=cursor)
                    found.extend(stored.result.scheduled_at for stored in page.items)
                    cursor = page.next_cursor
                    if cursor is None:
                        break
                times[check.id] = sorted(found)
    except Exception:
        return {}  # not created yet, or the server is away
    return times


@pytest.fixture
def cluster() -> Iterator[PrivatePostgres]:
    try:
        server = PrivatePostgres(SECRET)
    except (KeyError, FileNotFoundError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot make a private PostgreSQL cluster here: {exc}")
    try:
        yield server.start()
    finally:
        server.remove()


@pytest.mark.timeout(180)
def test_postgresql_restarted_under_the_agent_loses_no_run(
    tmp_path: Path,
    cluster: PrivatePostgres,
    target: HttpTarget,
    start_agent: Callable[..., Agent],
    web_port: int,
) -> None:
    config = tmp_path / "nyxmon.yaml"
    # Leases longer than the outage, as below: with the default 15 s a lease row lasts 11 s
    # after its last renewal (every 5 s), so a restart of 5 s plus detection and start-up on
    # a busy machine could outlast one, and the agent then stops probing by design.
    config.write_text(
        config_text(
            cluster.dsn(),
            web_port,
            _http_checks(target.url("/"), 3),
            agent="lease_seconds: 60s",
        )
    )
    agent = start_agent(config, web_port)

    def restart_begins() -> None:
        cluster.stop("fast")  # every session ends, as in a restart; then refused

    def restart_ends() -> None:
        time.sleep(5.0)  # a restart that takes a while (recovery, a package upgrade)
        cluster.start()

    write_fault_round_trip(
        agent,
        lambda: scheduled_times(cluster.dsn()),
        restart_begins,
        restart_ends,
        says="postgresql",
    )
    assert SECRET not in agent.output(), "the password appeared in the agent's log"


# -- the link to the database down -----------------------------------------------------------

_PROBE_HEALTH = """
import json, sys, urllib.request, urllib.error
def body(raw):
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        print(json.dumps([r.status, body(r.read())]))
except urllib.error.HTTPError as exc:
    print(json.dumps([exc.code, body(exc.read())]))
except OSError:
    print(json.dumps([0, None]))
"""


class _AgentInNamespace(Agent):
    """The agent runs in the prober namespace, so its web plane is reached from in there."""

    pair: NetnsPair

    def get(self, path: str) -> tuple[int, object]:
        done = self.pair.run(
            sys.executable, "-c", _PROBE_HEALTH, f"http://127.0.0.1:{self.port}{path}"
        )
        if done.returncode != 0 or not done.stdout.strip():
            return 0, None
        code, body = json.loads(done.stdout)
        return int(code), body


@pytest.mark.timeout(240)
def test_the_link_to_postgresql_down_for_30_s_loses_no_run(
    tmp_path: Path, start_agent: Callable[..., Agent], web_port: int
) -> None:
    """The agent in one network namespace, its database in another, joined by a veth pair
    whose link goes down for 30 s: packets vanish (no reset, no refusal), the hardest case
    for a client, which must notice by its own timeouts and not hang."""
    if not netns_available():
        pytest.skip("needs root and ip netns to make network namespaces")
    with NetnsPair() as pair:
        server = PrivatePostgres(
            SECRET, host=NetnsPair.TARGET_V4, prefix=("ip", "netns", "exec", pair.target)
        )
        try:
            server.start()
            dsn = server.dsn()
            config = tmp_path / "nyxmon.yaml"
            # The checks probe the agent's own web plane: in the namespace, nothing else is.
            # Leases longer than the outage: an agent that cannot renew its leases for longer
            # stops probing those checks (another agent may have them by then), by design.
            config.write_text(
                config_text(
                    dsn,
                    web_port,
                    _http_checks(f"http://127.0.0.1:{web_port}/livez", 3),
                    agent="lease_seconds: 60s",
                )
            )
            agent = start_agent(config, web_port, prefix=("ip", "netns", "exec", pair.prober))
            agent.__class__ = _AgentInNamespace
            assert isinstance(agent, _AgentInNamespace)
            agent.pair = pair
            veth = pair.prober_link

            def link_down() -> None:
                subprocess.run(["ip", "-n", pair.prober, "link", "set", veth, "down"], check=True)

            def link_up() -> None:
                time.sleep(30.0)
                subprocess.run(["ip", "-n", pair.prober, "link", "set", veth, "up"], check=True)

            times = lambda: _times_from(pair, dsn)  # noqa: E731
            # Nothing refuses or resets: the agent notices a write that is not answered.
            write_fault_round_trip(agent, times, link_down, link_up, says="not been answered")
        finally:
            server.remove()


_TIMES = """
import json, sys
sys.path.insert(0, sys.argv[2])
from tests.reliability.test_postgres_faults import scheduled_times
print(json.dumps(scheduled_times(sys.argv[1])))
"""


def _times_from(pair: NetnsPair, dsn: str) -> dict[str, list[float]]:
    """The stored runs, read from inside the prober namespace (the database's address is
    reachable only there, and only while the link is up)."""
    root = str(Path(__file__).resolve().parents[2])
    done = pair.run(sys.executable, "-c", _TIMES, dsn, root, timeout=60)
    if done.returncode != 0:
        return {}
    times: dict[str, list[float]] = json.loads(done.stdout)
    return times
