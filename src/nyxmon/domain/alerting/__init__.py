"""Alerting: per-check state machines, flap detection, maintenance windows, notices."""

from nyxmon.domain.alerting.machine import SEVERITIES, AlertMachine, Decision
from nyxmon.domain.alerting.maintenance import (
    Cron,
    MaintenanceScope,
    MaintenanceWindow,
    OneOff,
    Schedule,
    Weekly,
    active_windows,
    next_change,
)
from nyxmon.domain.alerting.policy import apply_overrides, policy_problems, policy_to_dict
from nyxmon.domain.alerting.snapshot import MachineSnapshot
from nyxmon.domain.alerting.types import (
    AlertPolicy,
    AlertState,
    Notice,
    NoticeKind,
    Route,
    RouteMatch,
    Severity,
    TelegramTarget,
)

__all__ = [
    "SEVERITIES",
    "AlertMachine",
    "AlertPolicy",
    "AlertState",
    "Cron",
    "Decision",
    "MachineSnapshot",
    "MaintenanceScope",
    "MaintenanceWindow",
    "Notice",
    "NoticeKind",
    "OneOff",
    "Route",
    "RouteMatch",
    "Schedule",
    "Severity",
    "TelegramTarget",
    "Weekly",
    "active_windows",
    "apply_overrides",
    "next_change",
    "policy_problems",
    "policy_to_dict",
]
