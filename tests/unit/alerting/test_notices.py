from __future__ import annotations

import json

import pytest

from nyxmon.domain.alerting.notices import notice_from_dict, notice_to_dict, notification_key
from nyxmon.domain.alerting.types import NoticeKind
from tests.unit.notify.fakes import check_info, notice


def test_a_notice_and_its_check_survive_the_outbox_round_trip() -> None:
    original = notice(
        "web.home",
        NoticeKind.RECOVERED,
        message="back",
        failing=("a",),
        duration=12.5,
        details={"status": 200},
    )
    back, check = notice_from_dict(json.loads(json.dumps(notice_to_dict(original, check_info()))))
    assert back == original
    assert check == check_info()


def test_the_idempotency_key_is_per_notice_and_route() -> None:
    n = notice()
    assert notification_key(n, "ops") != notification_key(n, "pager")
    assert notification_key(n, "ops") == notification_key(notice(), "ops")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param([], "JSON object", id="not-an-object"),
        pytest.param({"key": "k"}, "lacks the field 'check_id'", id="missing-field"),
    ],
)
def test_a_bad_payload_says_what_is_wrong(text: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        notice_from_dict(text)


def test_an_unknown_kind_in_a_payload_is_refused() -> None:
    data = notice_to_dict(notice(), check_info())
    data["kind"] = "exploded"
    with pytest.raises(ValueError, match="bad value"):
        notice_from_dict(data)
