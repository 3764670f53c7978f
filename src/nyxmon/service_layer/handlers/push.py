"""Pings in, deadlines out: the use cases of push checks (see :mod:`nyxmon.service_layer.push`
for the path of a ping and why it takes it).

A ping that ends a run (success, fail, an exit status) goes to the check's machine like a
probe's result; a start or a log is only recorded. A deadline that passed becomes a
``timeout`` result for the machine, so a silent job goes DOWN the moment its deadline plus
grace passes (the policy of a push check counts one missed deadline as down:
:func:`nyxmon.service_layer.alerting.Alerting.policy_for`).
"""

from __future__ import annotations

import logging
from functools import partial

from nyxmon.errors import PingHeldElsewhereError, PingKeyNotFoundError
from nyxmon.runtime import OneShot
from nyxmon.service_layer.dependencies import Dependencies
from nyxmon.service_layer.handlers.results import stage_results
from nyxmon.service_layer.messages import ChecksChanged, PushDeadline, RecordPing, RestorePushes
from nyxmon.service_layer.unit_of_work import UnitOfWork

__all__ = ["follow_push_checks", "push_deadline", "record_ping", "restore_pushes"]

log = logging.getLogger(__name__)


def record_ping(command: RecordPing, uow: UnitOfWork, deps: Dependencies) -> OneShot[str]:
    """Record a ping; the reply resolves with the check's id once it is durable."""
    ping = command.ping
    entry = deps.push.check_for(ping.key)
    if entry is None:
        ownership = deps.ownership
        if ownership.shared and deps.push.key_in(ping.key, ownership.catalog):
            raise PingHeldElsewhereError()
        deps.counters.pings_unknown_key += 1
        raise PingKeyNotFoundError()
    check_id = entry.check.id
    reply: OneShot[str] = OneShot()
    with uow:
        verdict = entry.tracker.on_ping(ping.kind, ping.at, ping.rid)
        result = deps.push.ping_result(entry, ping, verdict)
        if ping.kind.ends_run:
            stage_results(deps, uow, [result])
        else:
            uow.results.append(result)
        uow.acks.append(partial(_resolve, reply, check_id))
        deps.counters.pings += 1
        uow.commit()
    _arm(deps, check_id)
    return reply


def push_deadline(command: PushDeadline, uow: UnitOfWork, deps: Dependencies) -> int:
    """A deadline timer fired: record every deadline of the check that passed by now (none
    if a ping moved it meanwhile), and arm the next one. Returns how many were missed."""
    entry = deps.push.entries.get(command.check_id)
    if entry is None or not entry.check.active:
        return 0
    now = deps.alerting.clock()
    missed = entry.tracker.due(now)
    if missed:
        with uow:
            stage_results(deps, uow, [deps.push.missed_result(entry, m) for m in missed])
            deps.counters.pushes_missed += len(missed)
            uow.commit()
    _arm(deps, command.check_id)
    return len(missed)


def restore_pushes(command: RestorePushes, uow: UnitOfWork, deps: Dependencies) -> None:
    for check_id in deps.push.restore(command.latest, deps.alerting.clock()):
        _arm(deps, check_id)


def follow_push_checks(event: ChecksChanged, uow: UnitOfWork, deps: Dependencies) -> None:
    """Trackers follow the live push checks; their deadlines are armed or dropped."""
    armed, gone = deps.push.follow(event.checks, deps.alerting.clock())
    for check_id in gone:
        deps.deadlines.disarm(check_id)
    for check_id in armed:
        _arm(deps, check_id)


# -- helpers ---------------------------------------------------------------------------------------
def _resolve(reply: OneShot[str], check_id: str) -> None:
    reply.set_result(check_id)


def _arm(deps: Dependencies, check_id: str) -> None:
    entry = deps.push.entries.get(check_id)
    if entry is None or not entry.check.active:
        deps.deadlines.disarm(check_id)
        return
    deps.deadlines.arm(check_id, entry.tracker.deadline())
