"""Faults around a running agent: each ends with the agent running, ``/healthz`` telling the
truth while it lasts, and nothing lost.

Every test runs a real ``nyxmon run`` process against real peers on 127.0.0.1: an aiohttp
target whose ``/switch`` page the test turns down and up, a webhook receiver that goes away or
answers late, a dnslib DNS server that is stopped and started again on its port, a small tmpfs
in a private mount namespace that fills up or turns read-only under the database, and the wall
clock moved by hours (an LD_PRELOAD library) while the monotonic clock runs on.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from nyxmon.store.sqlite import SqliteStore
from tests.reliability.conftest import (
    Agent,
    MountNamespace,
    RestartableReceiver,
    config_text,
    outbox,
    problems_of,
    results_of,
    wait_for,
    write_fault_round_trip,
)
from tests.servers.dns_server import DnsTestServer
from tests.servers.http_target import HttpTarget


def _switch(target: HttpTarget, to: str) -> None:
    request = urllib.request.Request(target.url(f"/switch/{to}"), method="POST")
    urllib.request.urlopen(request, timeout=5).read()


def _switch_checks(target: HttpTarget, count: int) -> str:
    checks = "".join(
        f"      - {{name: s{i}, type: http, url: '{target.url('/switch')}'}}\n"
        for i in range(count)
    )
    steady = f"      - {{name: steady, type: http, url: '{target.url('/')}'}}\n"
    return f"  - name: web\n    checks:\n{checks}{steady}"


def _latest(db: Path, check_id: str) -> Any:
    with SqliteStore(db, readonly=True) as store:
        stored = store.latest_results([check_id]).get(check_id)
    return None if stored is None else stored.result


def _states(db: Path) -> dict[str, str]:
    with SqliteStore(db, readonly=True) as store:
        return {check_id: row.state for check_id, row in store.load_states().items()}


def _notices_in_order(receiver: RestartableReceiver, check_ids: list[str]) -> dict[str, list[str]]:
    accepted = receiver.accepted()
    return {c: [d["kind"] for d in accepted if d["check"]["id"] == c] for c in check_ids}


def _everything_delivered(db: Path, count: int) -> bool:
    rows = outbox(db)
    return len(rows) >= count and all(row.status == "delivered" for row in rows)


# -- the webhook receiver ------------------------------------------------------------------


def test_a_receiver_down_then_back_gets_every_notice_once_and_in_order(
    tmp_path: Path,
    target: HttpTarget,
    receiver: RestartableReceiver,
    start_agent: Callable[..., Agent],
    web_port: int,
) -> None:
    receiver.stop()  # connections refused from here on
    db = tmp_path / "nyxmon.db"
    config = tmp_path / "nyxmon.yaml"
    config.write_text(config_text(db, web_port, _switch_checks(target, 3), hook=receiver.url()))
    agent = start_agent(config, web_port)
    agent.wait_ready()
    ids = [f"web.s{i}" for i in range(3)]

    _switch(target, "down")
    wait_for(
        lambda: len(outbox(db)) == 3 and all(row.attempts >= 1 for row in outbox(db)),
        30,
        "three DOWN notices tried and failed",
    )
    assert all("cannot connect" in row.last_error.lower() for row in outbox(db)), outbox(db)
    # /healthz hears from the agent each second: its figure catches up.
    wait_for(
        lambda: agent.health()[1]["figures"]["notifications_pending"] >= 3,
        10,
        "/healthz to count the notices waiting",
    )
    code, health = agent.health()
    assert code == 200, health  # a receiver that is down is not the agent failing
    _switch(target, "up")
    wait_for(lambda: len(outbox(db)) == 6, 30, "three RECOVERED notices queued behind them")

    receiver.start()  # back, on the same port
    wait_for(lambda: _everything_delivered(db, 6), 60, "every notice delivered")
    assert agent.health()[0] == 200
    agent.stop()
    assert _notices_in_order(receiver, ids) == {c: ["down", "recovered"] for c in ids}
    assert not receiver.state.duplicates, "the receiver was down: nothing reached it twice"


def test_a_receiver_answering_after_the_timeout_gets_every_notice_in_order(
    tmp_path: Path,
    target: HttpTarget,
    receiver: RestartableReceiver,
    start_agent: Callable[..., Agent],
    web_port: int,
) -> None:
    receiver.call(lambda state: setattr(state, "hold", True))  # answers only when released
    db = tmp_path / "nyxmon.db"
    config = tmp_path / "nyxmon.yaml"
    config.write_text(config_text(db, web_port, _switch_checks(target, 2), hook=receiver.url()))
    agent = start_agent(config, web_port)
    agent.wait_ready()
    ids = ["web.s0", "web.s1"]

    _switch(target, "down")
    wait_for(
        lambda: len(outbox(db)) == 2 and all("no answer" in r.last_error for r in outbox(db)),
        60,
        "both DOWN notices timed out once (the webhook's 10 s)",
    )
    code, health = agent.health()
    assert code == 200, health
    _switch(target, "up")
    wait_for(lambda: len(outbox(db)) == 4, 30, "the RECOVERED notices queued")

    def answer(state: Any) -> None:  # the late answers arrive, and later ones are prompt
        state.hold = False
        state.release.set()

    receiver.call(answer)
    wait_for(lambda: _everything_delivered(db, 4), 60, "every notice delivered")
    agent.stop()
    assert _notices_in_order(receiver, ids) == {c: ["down", "recovered"] for c in ids}
    keys = {row.key for row in outbox(db)}
    assert set(receiver.state.duplicates) <= keys, "a repeat only under its own key"


# -- DNS -------------------------------------------------------------------------------------


def test_dns_checks_go_down_saying_why_while_the_dns_server_is_gone_and_come_back(
    tmp_path: Path, target: HttpTarget, start_agent: Callable[..., Agent], web_port: int
) -> None:
    dns = DnsTestServer().start()
    try:
        db = tmp_path / "nyxmon.db"
        config = tmp_path / "nyxmon.yaml"
        services = (
            "  - name: names\n    checks:\n"
            "      - {name: apex, type: dns, query_name: example.test, record_type: A,"
            f" server: 127.0.0.1, port: {dns.port}, expected: [192.0.2.10]}}\n"
            f"      - {{name: site, type: http, url: '{target.url('/')}'}}\n"
        )
        config.write_text(config_text(db, web_port, services))
        agent = start_agent(config, web_port)
        agent.wait_ready()
        wait_for(lambda: _states(db).get("names.apex") == "up", 30, "the dns check up")

        dns.stop()
        wait_for(lambda: _states(db).get("names.apex") == "down", 30, "the dns check down")
        result = _latest(db, "names.apex")
        assert result.outcome.value in ("fail", "error", "timeout"), result
        # "no DNS answer from 127.0.0.1:PORT within 0.8 s"
        assert f"127.0.0.1:{dns.port}" in result.message, result.message
        code, health = agent.health()
        assert code == 200, health  # a check failing is its target's trouble, not the agent's
        assert _states(db)["names.site"] == "up"

        dns.start()  # back on its port
        wait_for(lambda: _states(db).get("names.apex") == "up", 30, "the dns check up again")
        agent.stop()
    finally:
        dns.stop()


# -- the disk under the database -------------------------------------------------------------


@pytest.fixture
def small_disk(can_unshare: None, tmp_path: Path) -> Iterator[MountNamespace]:
    namespace = MountNamespace.tmpfs(tmp_path / "disk", "16m")
    yield namespace
    namespace.close()


def _fill(path: Path) -> int:
    """Write zeros to ``path`` until the file system is full; returns the bytes written."""
    written = 0
    chunk = b"\0" * 65536
    with path.open("wb", buffering=0) as f:
        while True:
            try:
                written += f.write(chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
    return written


def test_a_full_disk_makes_the_agent_not_ready_and_everything_waiting_is_written_after(
    tmp_path: Path,
    small_disk: MountNamespace,
    target: HttpTarget,
    start_agent: Callable[..., Agent],
    web_port: int,
) -> None:
    db = small_disk.folder / "nyxmon.db"
    config = tmp_path / "nyxmon.yaml"
    config.write_text(config_text(db, web_port, _switch_checks(target, 3)))
    agent = start_agent(config, web_port, prefix=small_disk.prefix)
    filler = small_disk.inside(small_disk.folder / "filler")
    write_fault_round_trip(
        agent,
        lambda: small_disk.scheduled_times(db),
        lambda: _fill(filler),
        lambda: filler.unlink(),
        says="full",
    )


@pytest.fixture
def ext4_disk(can_unshare: None, tmp_path: Path) -> Iterator[tuple[MountNamespace, Path]]:
    """A small ext4 file system (a loop-mounted image, ``errors=remount-ro``) in a private
    mount namespace: ext4 turns itself read-only on an error, under open files."""
    for tool in ("mkfs.ext4", "e2fsck", "losetup"):
        if shutil.which(tool) is None:
            pytest.skip(f"needs {tool} (e2fsprogs, util-linux) for an ext4 image")
    if not Path("/dev/loop-control").exists():
        pytest.skip("needs loop devices (/dev/loop-control) to mount an ext4 image")
    image = tmp_path / "ext4.img"
    with image.open("wb") as f:
        f.truncate(64 * 1024 * 1024)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True, capture_output=True)
    folder = tmp_path / "disk"
    namespace = MountNamespace(folder, f"mount -o loop,errors=remount-ro {image} {folder}")
    yield namespace, image
    namespace.close()


def test_a_file_system_turning_read_only_under_the_agent_is_reported_and_survived(
    tmp_path: Path,
    ext4_disk: tuple[MountNamespace, Path],
    target: HttpTarget,
    start_agent: Callable[..., Agent],
    web_port: int,
) -> None:
    """A mounted file system cannot be remounted read-only while files are open for writing
    (EBUSY), and ``chmod`` does not touch open files; what does turn a database read-only under
    a running agent is the kernel, when ext4 meets an error (``errors=remount-ro``). Here the
    error is triggered through ext4's own ``trigger_fs_error``. The agent keeps running,
    /healthz says why with 503, /livez stays 200, and SIGTERM stops it cleanly, saying how
    many results it could not write (exit 1): ext4 stays read-only until it is repaired, so
    those are lost. After the operator repairs the file system (e2fsck) and mounts it
    again, everything that had reached the disk before is there, sound, and the agent records
    again. An error that aborts ext4's journal is a power cut for the pages not yet written back:
    with ``synchronous=NORMAL`` the last commits before it may be lost (never a corrupt file),
    so "before" is read, then the file system is synced."""
    disk, image = ext4_disk
    device = disk.run("findmnt", "-n", "-o", "SOURCE", str(disk.folder)).strip()
    trigger = Path("/sys/fs/ext4") / Path(device).name / "trigger_fs_error"
    if not trigger.exists():
        pytest.skip(f"this kernel has no {trigger} to make ext4 meet an error")
    db = disk.folder / "nyxmon.db"
    config = tmp_path / "nyxmon.yaml"
    config.write_text(config_text(db, web_port, _switch_checks(target, 3)))
    agent = start_agent(config, web_port, prefix=disk.prefix)
    agent.wait_ready()
    wait_for(lambda: all(len(t) >= 2 for t in disk.scheduled_times(db).values()), 60, "results")
    # Read first, then sync: every result read is on disk by then. (Reading after the sync
    # could see a commit made between the two, which the error may take with it.)
    before = disk.scheduled_times(db)
    disk.run("sync", "--file-system", str(db))

    trigger.write_text("1\n")
    wait_for(lambda: problems_of(agent)[0] == 503, 60, "/healthz to say 503")
    _, problems = problems_of(agent)
    assert "store writes failing" in problems, problems
    assert "read-only" in problems.lower(), problems
    assert agent.get("/livez")[0] == 200, "a store refusing writes is no reason to restart"
    assert agent.health()[1]["figures"]["rows_waiting"] > 0, "results wait in memory"
    assert agent.alive()
    agent.stop(expect=1)  # a clean stop that says what it could not write
    assert "could NOT be written" in agent.output()

    disk.run("umount", str(disk.folder))
    repaired = subprocess.run(["e2fsck", "-fy", str(image)], capture_output=True, check=False)
    assert repaired.returncode in (0, 1), repaired.stdout  # 1: errors corrected
    disk.run("mount", "-o", "loop,errors=remount-ro", str(image), str(disk.folder))
    assert disk.run(sys.executable, "-c", _INTEGRITY, str(db)).strip() == "ok"
    after = disk.scheduled_times(db)
    for check_id, times in before.items():
        assert set(times) <= set(after[check_id]), f"{check_id}: committed results lost"

    again = start_agent(config, web_port, prefix=disk.prefix)
    again.wait_ready()
    wait_for(
        lambda: all(len(t) > len(after[c]) for c, t in disk.scheduled_times(db).items()),
        60,
        "the agent recording again",
    )
    again.stop()


_INTEGRITY = """
import sqlite3, sys
conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
print(conn.execute("PRAGMA integrity_check").fetchone()[0])
"""


# -- the wall clock --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def wall_clock_shift(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``wall_clock_shift.c`` built into a library for LD_PRELOAD (see its comment)."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("needs a C compiler (gcc) to build wall_clock_shift.c")
    library = tmp_path_factory.mktemp("clock") / "wall_clock_shift.so"
    source = Path(__file__).with_name("wall_clock_shift.c")
    built = subprocess.run(
        [compiler, "-shared", "-fPIC", "-O2", "-o", str(library), str(source), "-ldl"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    return library


def _stamped(db: Path, check_ids: list[str], offset: float) -> bool:
    """Every check has a result stamped on the wall clock moved by ``offset`` seconds."""
    now = time.time() + offset
    return all(any(abs(r.started_at - now) < 60 for r in results_of(db, c)) for c in check_ids)


def test_the_wall_clock_jumping_hours_changes_no_schedule_and_no_timestamp_goes_wrong(
    tmp_path: Path,
    target: HttpTarget,
    receiver: RestartableReceiver,
    wall_clock_shift: Path,
    start_agent: Callable[..., Agent],
    web_port: int,
) -> None:
    """The agent's wall clock (CLOCK_REALTIME) is moved three hours forward, then six back,
    while its monotonic clock runs on, as NTP stepping the clock or ``date -s`` would. Runs
    keep their one-a-second schedule (no storm, no stall), results are stamped on the wall
    clock of their time with a start lag of that run alone, and a notification waiting for
    its retry is delivered when the receiver is back, not hours later."""
    offset = tmp_path / "wall-clock-offset"
    offset.write_text("0\n")

    def move_clock(seconds: int) -> None:
        (tmp_path / "offset.new").write_text(f"{seconds}\n")
        os.replace(tmp_path / "offset.new", offset)

    db = tmp_path / "nyxmon.db"
    config = tmp_path / "nyxmon.yaml"
    config.write_text(config_text(db, web_port, _switch_checks(target, 2), hook=receiver.url()))
    env = {"LD_PRELOAD": str(wall_clock_shift), "NYXMON_WALL_CLOCK_FILE": str(offset)}
    started = time.monotonic()
    agent = start_agent(config, web_port, env=env)
    agent.wait_ready()
    ids = ["web.s0", "web.s1", "web.steady"]
    wait_for(lambda: all(_latest(db, c) is not None for c in ids), 30, "first results")

    receiver.call(lambda state: setattr(state, "fail_status", 503))
    _switch(target, "down")  # DOWN notices, failing: they wait for a retry
    wait_for(lambda: len(outbox(db)) == 2 and all(r.attempts for r in outbox(db)), 30, "retries")
    move_clock(3 * 3600)
    wait_for(lambda: _stamped(db, ids, 3 * 3600), 30, "results stamped on the moved clock")
    move_clock(-3 * 3600)  # six hours back
    receiver.call(lambda state: setattr(state, "fail_status", None))
    _switch(target, "up")
    wait_for(lambda: _stamped(db, ids, -3 * 3600), 30, "results stamped on the clock moved back")
    wait_for(lambda: _everything_delivered(db, 4), 60, "the waiting notices delivered")
    move_clock(0)
    elapsed = time.monotonic() - started
    assert agent.health()[0] == 200
    agent.stop()

    for check_id in ids:
        results = results_of(db, check_id)
        lags = [r.started_at - r.scheduled_at for r in results]
        assert all(-1 < lag < 30 for lag in lags), f"{check_id}: start lags {sorted(lags)[-3:]}"
        # Start to start on the monotonic clock: at most one run a second (the interval).
        assert len(results) <= elapsed + 2, f"{check_id}: a storm of {len(results)} runs"
    assert _notices_in_order(receiver, ["web.s0", "web.s1"]) == {
        c: ["down", "recovered"] for c in ["web.s0", "web.s1"]
    }
