"""The ``nyxmon`` command line (typer + rich): run the agent, manage checks, read results."""

from __future__ import annotations

from nyxmon.cli.app import app, main

__all__ = ["app", "main"]
