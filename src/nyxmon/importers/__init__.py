"""Importing other monitors' configurations: Gatus, Uptime Kuma, the original NyxMon 0.1.

Each tool has one module holding its mapping (:mod:`.gatus`, :mod:`.uptime_kuma`,
:mod:`.nyxmon01`) that turns the source into an :class:`~.draft.ImportDraft`; :mod:`.output`
judges it against the registered check types and the config validator and writes the YAML;
:mod:`.report` keeps what was mapped, approximated and dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

from nyxmon.importers.common import SourceError
from nyxmon.importers.draft import ImportDraft
from nyxmon.importers.gatus import import_gatus
from nyxmon.importers.nyxmon01 import import_nyxmon01
from nyxmon.importers.output import ImportFailed, finish
from nyxmon.importers.report import Fate, ImportReport
from nyxmon.importers.uptime_kuma import import_uptime_kuma

__all__ = [
    "IMPORTERS",
    "Fate",
    "ImportDraft",
    "ImportFailed",
    "ImportReport",
    "SourceError",
    "finish",
]

IMPORTERS: Mapping[str, Callable[[Path], ImportDraft]] = MappingProxyType(
    {
        "gatus": import_gatus,
        "uptime-kuma": import_uptime_kuma,
        "nyxmon-0.1": import_nyxmon01,
    }
)
