"""The ``ssh`` check type's parameters: the server's identification line (no login)
(the probe: :mod:`nyxmon.probes.ssh`)."""

from __future__ import annotations

from pydantic import Field

from nyxmon.checktypes.base import CheckType
from nyxmon.checktypes.connection import ServerSpec

__all__ = ["SSH", "SshSpec"]


class SshSpec(ServerSpec):
    """Params of an ``ssh`` check."""

    protocol_version: str = Field(
        "2.0", description="the SSH protocol the server must offer (2.0; 1.99 also offers it)"
    )


SSH = CheckType(
    name="ssh",
    params=SshSpec,
    observes=frozenset({"CONNECTED", "RESPONSE_TIME", "BODY", "IP"}),
    executor="nyxmon.probes.ssh:create_executor",
    summary="an SSH server's identification: protocol version and software (no login)",
)
