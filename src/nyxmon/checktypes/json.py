"""The ``json`` check type's parameters: those of ``http``; the body must be JSON (the probe:
:mod:`nyxmon.probes.json_http`)."""

from __future__ import annotations

from pydantic import Field

from nyxmon.checktypes.base import CheckType
from nyxmon.checktypes.http import HTTP_OBSERVES, HttpSpec

__all__ = ["JSON", "JsonSpec"]


class JsonSpec(HttpSpec):
    """Params of a ``json`` check: those of ``http``, the body must be JSON, and rules whose
    failure makes a run degraded instead of failed (validated like ``conditions`` by the
    config, see ``condition_fields``)."""

    degraded_conditions: list[str] = Field(
        default_factory=list,
        description="conditions that, when one fails, make a passing run degraded instead of "
        "down (e.g. [BODY].queue_depth < 100)",
    )


JSON = CheckType(
    name="json",
    params=JsonSpec,
    observes=HTTP_OBSERVES,
    executor="nyxmon.probes.json_http:create_executor",
    summary="an HTTP request to a JSON API; conditions read the document ([BODY].a.b)",
    condition_fields=("degraded_conditions",),
)
