"""Which checks the public routes may speak about: those shown on a public status page.

A badge or any other anonymous answer about a check exists only for checks whose service a
status page (``web.status_pages``) shows; a page without ``services`` shows every service.
Everything else, private or unknown, gets the same answer, so a stranger cannot tell an id
that exists from one that does not (ids cannot be enumerated): decided from the in-memory
check list alone, before anything is read from the store, so the two cannot be told apart by
their timing either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from nyxmon.config.web import StatusPage
from nyxmon.domain.model import Check
from nyxmon.web.live import CheckView

__all__ = ["is_public", "public_view"]


def is_public(check: Check, pages: Sequence[StatusPage]) -> bool:
    """Whether a status page shows ``check``'s service."""
    return any(not page.services or check.service in page.services for page in pages)


def public_view(
    views: Mapping[str, CheckView], check_id: str, pages: Sequence[StatusPage]
) -> CheckView | None:
    """The live view of ``check_id`` if it is public; ``None`` for private and unknown alike."""
    view = views.get(check_id)
    if view is None or not is_public(view.check, pages):
        return None
    return view
