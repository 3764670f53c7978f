"""Snapshots survive JSON and restarts; policies merge overrides and refuse broken rules."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from nyxmon.domain.alerting import (
    AlertMachine,
    AlertPolicy,
    AlertState,
    MachineSnapshot,
    apply_overrides,
    policy_problems,
    policy_to_dict,
)
from nyxmon.errors import PolicyError, SnapshotError

from .helpers import CHECK, Run

S = AlertState


def test_snapshot_round_trips_through_json() -> None:
    run = Run(AlertPolicy(remind_every=60.0, flap_window=10))
    run.results("oo ff o")
    run.feed("f", failed=["[STATUS] (500) == 200"])
    snapshot = run.machine.snapshot()
    data = json.loads(json.dumps(snapshot.to_dict()))
    assert MachineSnapshot.from_dict(data) == snapshot
    assert data["state"] == "down"
    assert data["history"] == "ooffof"
    assert data["last_failing"] == ["[STATUS] (500) == 200"]


def test_a_restarted_machine_resumes_without_a_second_down() -> None:
    run = Run(AlertPolicy(remind_every=600.0, remind_max=1))
    run.results("oo ff")
    data = json.loads(json.dumps(run.machine.snapshot().to_dict()))
    resumed = Run(
        AlertPolicy(remind_every=600.0, remind_max=1),
        snapshot=MachineSnapshot.from_dict(data),
        now=run.now,
    )
    assert resumed.state is S.DOWN
    resumed.results("fff")
    assert resumed.notices == []
    resumed.tick(600)
    resumed.results("oo")
    assert resumed.kinds() == ["reminder", "recovered"]
    assert resumed.notices[-1].key == f"{CHECK}:1:recovered:3"


def test_a_restart_mid_count_keeps_the_count() -> None:
    run = Run(AlertPolicy(failure_threshold=3))
    run.results("oo ff")
    resumed = Run(AlertPolicy(failure_threshold=3), snapshot=run.machine.snapshot(), now=run.now)
    assert resumed.kinds(resumed.results("f")) == ["down"]


def test_an_old_snapshot_without_newer_fields_still_loads() -> None:
    snapshot = MachineSnapshot.from_dict({"check_id": CHECK, "state": "up", "ignored": 1})
    assert (snapshot.state, snapshot.announced, snapshot.sequence) == (S.UP, None, 0)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        pytest.param({"state": "sideways"}, "state", id="unknown-state"),
        pytest.param({"announced": "flapping"}, "announced", id="never-announced"),
        pytest.param({"consecutive_ok": -1}, "consecutive_ok", id="negative-count"),
        pytest.param({"incident": 1.5}, "incident", id="fractional-count"),
        pytest.param({"paused": "yes"}, "paused", id="string-bool"),
        pytest.param({"since": "noon"}, "since", id="string-time"),
        pytest.param({"since": float("nan")}, "since", id="nan-time"),
        pytest.param({"history": "oxo"}, "history", id="bad-history"),
        pytest.param({"last_failing": "x"}, "last_failing", id="failing-not-list"),
        pytest.param({"health": "flapping"}, "health", id="health-not-a-verdict"),
        pytest.param({"version": 99}, "version", id="newer-version"),
        pytest.param({"last_kind": "shout"}, "last_kind", id="unknown-kind"),
    ],
)
def test_a_bad_snapshot_is_refused_naming_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(SnapshotError, match=f"^{field}: "):
        MachineSnapshot.from_dict({"check_id": CHECK, **data})


def test_snapshot_without_check_id_or_of_another_check_is_refused() -> None:
    with pytest.raises(SnapshotError, match="check_id"):
        MachineSnapshot.from_dict({"state": "up"})
    with pytest.raises(SnapshotError, match="other"):
        AlertMachine(CHECK, AlertPolicy(), 60.0, snapshot=MachineSnapshot("other"))
    with pytest.raises(SnapshotError, match="mapping"):
        MachineSnapshot.from_dict([])  # type: ignore[arg-type]


def test_overrides_replace_only_the_keys_they_name() -> None:
    base = AlertPolicy(failure_threshold=3, remind_every=600.0)
    merged = apply_overrides(
        base, {"failure_threshold": 5, "escalate_to": ["pager"], "retry_interval": 10}
    )
    assert merged == replace(base, failure_threshold=5, escalate_to=("pager",), retry_interval=10.0)
    assert apply_overrides(base, {}) is base
    assert apply_overrides(base, policy_to_dict(merged)) == merged


@pytest.mark.parametrize(
    ("overrides", "text"),
    [
        pytest.param({"failure_treshold": 3}, "unknown alert policy key", id="unknown"),
        pytest.param({"retries": 1.5}, "whole number", id="fraction"),
        pytest.param({"retries": True}, "number", id="bool-as-number"),
        pytest.param({"send_on_resolved": 1}, "true or false", id="number-as-bool"),
        pytest.param({"escalate_to": "pager"}, "list of route names", id="string-routes"),
    ],
)
def test_bad_overrides_are_refused(overrides: dict[str, object], text: str) -> None:
    with pytest.raises(PolicyError, match=text):
        apply_overrides(AlertPolicy(), overrides)


@pytest.mark.parametrize(
    ("policy", "key"),
    [
        pytest.param(AlertPolicy(failure_threshold=0), "failure_threshold", id="failure-0"),
        pytest.param(AlertPolicy(success_threshold=0), "success_threshold", id="success-0"),
        pytest.param(AlertPolicy(degraded_threshold=0), "degraded_threshold", id="degraded-0"),
        pytest.param(AlertPolicy(retries=-1), "retries", id="retries-negative"),
        pytest.param(AlertPolicy(flap_window=2), "flap_window", id="window-2"),
        pytest.param(AlertPolicy(flap_high=1.5), "flap_high", id="high-above-1"),
        pytest.param(AlertPolicy(flap_low=0.6, flap_high=0.5), "flap_low", id="low-above-high"),
        pytest.param(AlertPolicy(flap_low=0.0), "flap_low", id="low-zero"),
        pytest.param(AlertPolicy(remind_every=0.0), "remind_every", id="remind-zero"),
        pytest.param(AlertPolicy(remind_max=-1), "remind_max", id="remind-max-negative"),
    ],
)
def test_a_broken_policy_is_refused_by_the_machine(policy: AlertPolicy, key: str) -> None:
    assert [k for k, _ in policy_problems(policy)] == [key]
    with pytest.raises(PolicyError, match=f"alert.{key}"):
        AlertMachine(CHECK, policy, 60.0)


def test_retry_interval_must_be_shorter_than_the_interval() -> None:
    policy = AlertPolicy(retries=1, retry_interval=60.0)
    assert policy_problems(policy) == []
    assert [k for k, _ in policy_problems(policy, interval=60.0)] == ["retry_interval"]
    assert policy_problems(policy, interval=61.0) == []


def test_a_non_positive_interval_is_refused() -> None:
    with pytest.raises(PolicyError, match="interval"):
        AlertMachine(CHECK, AlertPolicy(), 0.0)


def test_update_policy_applies_to_the_next_results_and_keeps_the_counts() -> None:
    run = Run(AlertPolicy(failure_threshold=5, flap_window=20))
    run.results("oo ff")
    run.machine.update_policy(AlertPolicy(failure_threshold=3, flap_window=3), 30.0)
    assert run.machine.policy.failure_threshold == 3
    assert run.machine.snapshot().history == "off"
    assert run.kinds(run.results("f")) == ["down"]
    with pytest.raises(PolicyError):
        run.machine.update_policy(AlertPolicy(success_threshold=0), 30.0)
