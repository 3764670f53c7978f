"""The ``json`` check type: an HTTP probe of a JSON API whose conditions read the document.

Everything of the ``http`` type applies (status, keywords, TLS, timings); in addition the body
must parse as JSON, or the run fails saying so, and conditions address the parsed document with
paths such as ``[BODY].data[0].status == UP``. Requests send ``Accept: application/json``
unless the check sets its own ``Accept`` header.
"""

from __future__ import annotations

from typing import ClassVar

from nyxmon.checktypes.http import HttpSpec
from nyxmon.checktypes.json import JsonSpec
from nyxmon.domain.conditions import Condition, Observation
from nyxmon.probes.http import HttpExecutor
from nyxmon.probes.http_client import HttpClients
from nyxmon.probes.registry import SharedResources

__all__ = ["TYPE_NAME", "JsonExecutor", "create_executor"]

TYPE_NAME = "json"


class JsonExecutor(HttpExecutor):
    """Runs ``json`` checks: an HTTP probe that also requires a JSON body."""

    type_name: ClassVar[str] = TYPE_NAME
    spec_model = JsonSpec
    default_headers: ClassVar[dict[str, str]] = {"Accept": "application/json"}

    def _problems(
        self,
        spec: HttpSpec,
        conditions: tuple[Condition, ...],
        observation: Observation,
        status: int,
        ranges: tuple[tuple[int, int], ...] | None,
    ) -> list[str]:
        problems = super()._problems(spec, conditions, observation, status, ranges)
        try:
            observation.json()
        except ValueError as exc:
            problems.append(f"response is not JSON: {exc}")
        return problems


def create_executor(resources: SharedResources) -> JsonExecutor:
    """Registry factory: a JSON executor on the registry's shared curl bridge."""
    return JsonExecutor(resources.get("http", HttpClients))
