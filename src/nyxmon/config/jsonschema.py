"""A JSON Schema of the whole config file, for editors (yaml-language-server) and docs.

It is generated from the very models the loader validates with, so an editor's red squiggle
and ``nyxmon config validate`` agree on what is allowed. Rules that span keys (unique ids,
timeout below interval) are not expressible here and stay the loader's job.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

from nyxmon.config.alerting import AlertingSection
from nyxmon.config.checks import Registry, check_config_type
from nyxmon.config.maintenance import MaintenanceSection
from nyxmon.config.schema import AgentSection, DefaultsSection, ServiceSection, WebSection

__all__ = ["config_json_schema"]


def config_json_schema(registry: Registry | None = None) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a NyxMon config file."""
    check = check_config_type(registry)
    service: type[BaseModel] = create_model(
        "Service",
        __base__=ServiceSection,
        checks=(list[check], []),  # type: ignore[valid-type]
    )
    document: type[BaseModel] = create_model(
        "NyxmonConfig",
        __config__=ConfigDict(
            extra="forbid",
            title="NyxMon configuration",
            json_schema_extra={"patternProperties": {"^x-": {}}},
        ),
        agent=(AgentSection, AgentSection()),
        web=(WebSection, WebSection()),
        defaults=(DefaultsSection, DefaultsSection()),
        services=(list[service], []),  # type: ignore[valid-type]
        alerting=(AlertingSection, AlertingSection()),
        maintenance=(list[MaintenanceSection], []),
    )
    return document.model_json_schema()
