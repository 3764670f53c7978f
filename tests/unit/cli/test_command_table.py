"""The lazy command table of ``nyxmon`` (nyxmon.cli.app): every entry loads a command of its
name, the help lists them all, and a mistyped command is refused with the known ones."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nyxmon.cli.app import COMMANDS, load_command


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_entry_loads_a_command_of_its_name(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    assert (command.help or "").strip()


def _nyxmon(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "nyxmon", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_the_help_lists_every_command_and_a_group_keeps_its_subcommands() -> None:
    top = _nyxmon("--help")
    assert top.returncode == 0, top.stderr
    listed = {line.split()[1] for line in top.stdout.splitlines() if line.startswith("│ ")}
    assert set(COMMANDS) <= listed
    ping = _nyxmon("ping", "--help")  # a group of one command stays a group: `ping run`
    assert ping.returncode == 0, ping.stderr
    assert "run" in {line.split()[1] for line in ping.stdout.splitlines() if line.startswith("│ ")}


def test_an_unknown_command_is_refused() -> None:
    done = _nyxmon("chek", "list")
    assert done.returncode == 2
    assert "No such command 'chek'" in done.stderr
