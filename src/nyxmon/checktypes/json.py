"""The ``json`` check type's parameters: those of ``http``; the body must be JSON (the probe:
:mod:`nyxmon.probes.json_http`)."""

from __future__ import annotations

from nyxmon.checktypes.base import CheckType
from nyxmon.checktypes.http import HTTP_OBSERVES, HttpSpec

__all__ = ["JSON", "JsonSpec"]


class JsonSpec(HttpSpec):
    """Params of a ``json`` check: the same as ``http``; the body must be JSON."""


JSON = CheckType(
    name="json",
    params=JsonSpec,
    observes=HTTP_OBSERVES,
    executor="nyxmon.probes.json_http:create_executor",
    summary="an HTTP request to a JSON API; conditions read the document ([BODY].a.b)",
)
