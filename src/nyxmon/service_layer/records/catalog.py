"""Listing and changing the catalog of checks: queries, pages and what an upsert did."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Generic, TypeVar

from nyxmon.domain.model import CheckSource

__all__ = ["CheckQuery", "Page", "ReconcileReport", "UpsertOutcome"]


def _no_labels() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class CheckQuery:
    """Filters for listing checks; every filter left at ``None`` matches everything.

    ``archived=False`` (the default) lists live checks only, ``True`` only checks archived
    because they left the config, ``None`` both. ``labels`` must all match (key == value)
    among the check's effective labels (its service's, its own winning on a clash).
    """

    service: str | None = None
    type: str | None = None
    labels: Mapping[str, str] = field(default_factory=_no_labels)
    enabled: bool | None = None
    paused: bool | None = None
    source: CheckSource | None = None
    archived: bool | None = False
    limit: int | None = None
    offset: int = 0

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 0:
            raise ValueError(f"CheckQuery.limit must be >= 0, got {self.limit}")
        if self.offset < 0:
            raise ValueError(f"CheckQuery.offset must be >= 0, got {self.offset}")


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing plus the number of items matching in all pages."""

    items: tuple[T, ...]
    total: int
    limit: int | None
    offset: int


class UpsertOutcome(StrEnum):
    """What an upsert did to the stored row."""

    ADDED = "added"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    REVIVED = "revived"


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """Check ids touched by making the stored config checks equal to the config file.

    ``added`` holds every check that is live now and was not before, including ``revived``
    ones that came back from the archive with their history; ``removed`` were archived.
    """

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    revived: tuple[str, ...] = ()
