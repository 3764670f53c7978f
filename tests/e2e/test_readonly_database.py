"""A database NyxMon cannot write says why at start (issue 13, defect 3).

The folder is made read-only for real: bind-mounted read-only inside a mount namespace the
test creates (``unshare -m``), which holds even for root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nyxmon.store.sqlite import SqliteStore


def _read_only(folder: Path, *command: str) -> subprocess.CompletedProcess[str]:
    script = f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder} && " + " ".join(
        command
    )
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )


@pytest.fixture
def can_unshare() -> None:
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare (util-linux) to make a read-only mount")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"cannot create a mount namespace here: {probe.stderr.decode().strip()}")


@pytest.mark.usefixtures("can_unshare")
def test_a_database_on_a_read_only_file_system_is_refused_saying_why(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    SqliteStore(str(folder / "nyxmon.db")).close()  # a real database, cleanly closed
    config = tmp_path / "nyxmon.yaml"
    config.write_text(f"agent: {{database: {folder / 'nyxmon.db'}}}\nservices: []\n")
    done = _read_only(folder, sys.executable, "-m", "nyxmon", "run", "--config", str(config))
    assert done.returncode == 1, done.stdout + done.stderr
    said = " ".join((done.stdout + done.stderr).split())
    assert "read-only file system" in said
    assert str(folder) in said
