"""The ``json`` check type: an HTTP probe of a JSON API whose conditions read the document.

Everything of the ``http`` type applies (status, keywords, TLS, timings); in addition the body
must parse as JSON, or the run fails saying so, and conditions address the parsed document with
paths such as ``[BODY].data[0].status == UP``. Requests send ``Accept: application/json``
unless the check sets its own ``Accept`` header. ``degraded_conditions`` are rules of lesser
severity: when the run passes otherwise but one of them fails, the run is degraded (the check
turns DEGRADED, not DOWN) and the message names the failed rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from nyxmon.checktypes.http import HttpSpec
from nyxmon.checktypes.json import JsonSpec
from nyxmon.domain.conditions import Condition, Observation, compile_condition, evaluate_all
from nyxmon.errors import ConditionSyntaxError
from nyxmon.probes.base import PreparedCheck
from nyxmon.probes.http import HttpExecutor
from nyxmon.probes.http_client import HttpClients
from nyxmon.probes.rdap import RdapLookup
from nyxmon.probes.registry import SharedResources

__all__ = ["TYPE_NAME", "JsonExecutor", "create_executor"]

TYPE_NAME = "json"


class JsonExecutor(HttpExecutor):
    """Runs ``json`` checks: an HTTP probe that also requires a JSON body."""

    type_name: ClassVar[str] = TYPE_NAME
    spec_model = JsonSpec
    default_headers: ClassVar[dict[str, str]] = {"Accept": "application/json"}

    def __init__(self, clients: HttpClients, rdap: Callable[[], RdapLookup] = RdapLookup) -> None:
        super().__init__(clients, rdap)
        self._degrading_rules: dict[str, tuple[PreparedCheck[HttpSpec], tuple[Condition, ...]]] = {}

    def _degrading(
        self, check_id: str, prepared: PreparedCheck[HttpSpec], observation: Observation
    ) -> list[str]:
        spec = prepared.spec
        if not isinstance(spec, JsonSpec) or not spec.degraded_conditions:
            return []
        cached = self._degrading_rules.get(check_id)
        if cached is None or cached[0] is not prepared:
            try:
                rules = tuple(compile_condition(text) for text in spec.degraded_conditions)
            except ConditionSyntaxError as exc:  # validated on the way in; say so if not
                return [f"degraded_conditions: {exc}"]
            if len(self._degrading_rules) >= 100_000:
                self._degrading_rules.clear()
            cached = self._degrading_rules[check_id] = (prepared, rules)
        return [o.description for o in evaluate_all(cached[1], observation) if not o.ok]

    async def aclose(self) -> None:
        self._degrading_rules.clear()
        await super().aclose()

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
    return JsonExecutor(
        resources.get("http", HttpClients), lambda: resources.get("rdap", RdapLookup)
    )
