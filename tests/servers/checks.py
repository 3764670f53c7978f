"""Building :class:`~nyxmon.domain.model.Check` objects in tests without repeating boilerplate."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from nyxmon.domain.model import Check

__all__ = ["make_check"]


def make_check(
    check_type: str,
    params: Mapping[str, Any],
    *conditions: str,
    check_id: str = "target.check",
    timeout: float = 5.0,
    interval: float = 60.0,
    extra_conditions: Iterable[str] = (),
) -> Check:
    """A check of ``check_type`` with ``params`` and ``conditions``, named after ``check_id``."""
    service, _, name = check_id.partition(".")
    return Check(
        id=check_id,
        service=service,
        name=name or check_id,
        type=check_type,
        interval=interval,
        timeout=timeout,
        params=dict(params),
        conditions=(*conditions, *extra_conditions),
    )
