"""stub"""

from __future__ import annotations

from pathlib import Path

from nyxmon.importers.draft import ImportDraft


def import_uptime_kuma(path: Path) -> ImportDraft:
    raise NotImplementedError
