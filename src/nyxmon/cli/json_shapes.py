"""``--json`` documents: the REST API's own response models, filled from the CLI's reads.

The models are imported from :mod:`nyxmon.web.api.schemas` (only when ``--json`` is given:
FastAPI is slow to import) so a script can switch between ``nyxmon ... --json`` and
``GET /api/v1/...`` without renaming a field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nyxmon.domain.history.figures import Availability
from nyxmon.domain.model import Check
from nyxmon.domain.status import CheckStatus
from nyxmon.service_layer.records.alerts import OutboxEntry
from nyxmon.service_layer.records.results import StoredResult

__all__ = [
    "check_document",
    "check_with_history",
    "checks_page",
    "outbox_document",
    "results_page",
]


def check_document(
    check: Check, status: CheckStatus | None, location_views: Sequence[Any] = ()
) -> dict[str, Any]:
    """A check as ``GET /api/v1/checks/{id}`` answers it (``location_views``: its
    :class:`~nyxmon.web.api.schemas.LocationViewOut` entries, where the caller read them)."""
    from nyxmon.domain.status import state_of
    from nyxmon.web.api.schemas import check_out
    from nyxmon.web.live import CheckView

    view = CheckView(check, status, state_of(check, status))
    return check_out(check, view, location_views).model_dump(mode="json")


def checks_page(
    checks: Sequence[Check], statuses: Mapping[str, CheckStatus | None], total: int
) -> dict[str, Any]:
    """Checks as ``GET /api/v1/checks`` answers them (one page holding every match)."""
    items = [check_document(check, statuses.get(check.id)) for check in checks]
    return {"items": items, "total": total, "limit": len(items), "offset": 0}


def check_with_history(
    check: Check,
    status: CheckStatus | None,
    day: Availability,
    recent: Sequence[StoredResult],
    location_views: Sequence[Any] = (),
) -> dict[str, Any]:
    """``nyxmon check show --json``: the check, plus ``uptime`` shaped like
    ``GET .../uptime`` (its 24 h window) and its newest ``results`` like ``GET .../results``."""
    from nyxmon.web.api.schemas import availability_out

    document = check_document(check, status, location_views)
    document["uptime"] = {"24h": availability_out(day).model_dump(mode="json")}
    document["results"] = results_page(recent)["items"]
    return document


def results_page(results: Sequence[StoredResult]) -> dict[str, Any]:
    """Results as ``GET /api/v1/checks/{id}/results`` answers them, newest first."""
    from nyxmon.web.api.schemas import ResultPageOut, stored_result_out

    page = ResultPageOut(items=[stored_result_out(stored) for stored in results], next_cursor=None)
    return page.model_dump(mode="json")


def outbox_document(
    entries: Sequence[OutboxEntry], counts: Mapping[str, int], status: str
) -> dict[str, Any]:
    """The outbox (the API has no outbox route; the names follow its style): ``counts`` of
    every status, then the entries shown, newest first."""
    return {
        "counts": dict(sorted(counts.items())),
        "status": status,
        "order": "newest first",
        "items": [
            {
                "id": entry.id,
                "check_id": entry.check_id,
                "kind": entry.kind,
                "route": entry.route,
                "status": entry.status,
                "attempts": entry.attempts,
                "created_at": entry.created_at,
                "next_attempt_at": entry.next_attempt_at,
                "delivered_at": entry.delivered_at,
                "last_error": entry.last_error,
            }
            for entry in entries
        ],
    }
