"""stub"""

from __future__ import annotations

from pathlib import Path

from nyxmon.importers.draft import ImportDraft


def import_nyxmon01(path: Path) -> ImportDraft:
    raise NotImplementedError
