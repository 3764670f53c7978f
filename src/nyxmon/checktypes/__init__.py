"""The declared registry of check types: every type NyxMon knows, by name.

Each module declares one :class:`CheckType` (its params model, the placeholders its probe
observes, where its executor lives). The config, the API, the forms and the CLI read this
registry; only the probe registry (:mod:`nyxmon.probes.registry`) resolves executors, lazily.
A test checks that every module here is registered and every probe has a declaration.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from nyxmon.checktypes.amqp import AMQP
from nyxmon.checktypes.base import CheckType, SpecModel
from nyxmon.checktypes.dns import DNS
from nyxmon.checktypes.ftp import FTP
from nyxmon.checktypes.grpc import GRPC
from nyxmon.checktypes.http import HTTP
from nyxmon.checktypes.icmp import ICMP
from nyxmon.checktypes.imap import IMAP
from nyxmon.checktypes.json import JSON
from nyxmon.checktypes.mqtt import MQTT
from nyxmon.checktypes.mysql import MYSQL
from nyxmon.checktypes.nats import NATS
from nyxmon.checktypes.pop3 import POP3
from nyxmon.checktypes.postgres import POSTGRES
from nyxmon.checktypes.push import PUSH
from nyxmon.checktypes.redis import REDIS
from nyxmon.checktypes.smtp import SMTP
from nyxmon.checktypes.ssh import SSH
from nyxmon.checktypes.tcp import TCP
from nyxmon.checktypes.tls import TLS
from nyxmon.checktypes.udp import UDP
from nyxmon.checktypes.websocket import WEBSOCKET

__all__ = ["CHECK_TYPES", "CheckType", "SpecModel", "params_models"]

CHECK_TYPES: Mapping[str, CheckType] = MappingProxyType(
    {
        check_type.name: check_type
        for check_type in (
            *(HTTP, JSON, DNS),
            # pinged, not probed
            PUSH,
            # databases and brokers, websocket, grpc (alphabetical)
            *(AMQP, GRPC, MQTT, MYSQL, NATS, POSTGRES, REDIS, WEBSOCKET),
            # network types (alphabetical)
            *(FTP, ICMP, IMAP, POP3, SMTP, SSH, TCP, TLS, UDP),
        )
    }
)


def params_models(types: Mapping[str, CheckType] = CHECK_TYPES) -> Mapping[str, type[SpecModel]]:
    """Each type's params model, by type name."""
    return MappingProxyType({name: check_type.params for name, check_type in types.items()})
