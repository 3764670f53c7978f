"""What an import carried over: every item mapped, approximated or dropped, said once.

Each importer records into one :class:`ImportReport` as it reads the source; the same words
end up as comments in the YAML (next to the item) and in the summary printed on stderr, so
nothing is dropped silently. ``--strict`` fails when anything was approximated or dropped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["Fate", "ImportReport", "ReportEntry"]


class Fate(StrEnum):
    """What became of one source setting."""

    MAPPED = "mapped"
    APPROXIMATED = "approximated"
    DROPPED = "dropped"


@dataclass(frozen=True, slots=True)
class ReportEntry:
    """One setting's fate: ``where`` in the source (``endpoints[3] "api"``), ``what`` happened."""

    fate: Fate
    where: str
    what: str


@dataclass
class ImportReport:
    """Every entry of one import, in the order they were found."""

    source: str
    entries: list[ReportEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def mapped(self, where: str, what: str) -> None:
        self.entries.append(ReportEntry(Fate.MAPPED, where, what))

    def approximated(self, where: str, what: str) -> None:
        self.entries.append(ReportEntry(Fate.APPROXIMATED, where, what))

    def dropped(self, where: str, what: str) -> None:
        self.entries.append(ReportEntry(Fate.DROPPED, where, what))

    def of(self, fate: Fate) -> list[ReportEntry]:
        return [entry for entry in self.entries if entry.fate is fate]

    @property
    def exact(self) -> bool:
        """Whether everything was carried over as it was (what ``--strict`` demands)."""
        return not self.of(Fate.APPROXIMATED) and not self.of(Fate.DROPPED)

    def summary(self) -> str:
        """The text for stderr: counts, then every approximation and drop with its place."""
        counts = Counter(entry.fate for entry in self.entries)
        lines = [
            f"import from {self.source}: {counts[Fate.MAPPED]} mapped, "
            f"{counts[Fate.APPROXIMATED]} approximated, {counts[Fate.DROPPED]} dropped"
        ]
        mapped = Counter(entry.what for entry in self.of(Fate.MAPPED))
        if mapped:
            lines.append("mapped:")
            lines.extend(f"  {what}: {count}" for what, count in sorted(mapped.items()))
        for fate in (Fate.APPROXIMATED, Fate.DROPPED):
            entries = self.of(fate)
            if entries:
                lines.append(f"{fate.value}:")
                lines.extend(f"  {entry.where}: {entry.what}" for entry in entries)
        if self.warnings:
            lines.append("warnings:")
            lines.extend(f"  {warning}" for warning in self.warnings)
        return "\n".join(lines)
