from __future__ import annotations

import email.utils

import pytest

from nyxmon.domain.redaction import mask_url
from nyxmon.notify.webhook import parse_retry_after

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        pytest.param("120", 120.0, id="delta-seconds"),
        pytest.param(" 7 ", 7.0, id="padded"),
        pytest.param(email.utils.formatdate(NOW + 90, usegmt=True), 90.0, id="http-date"),
        pytest.param(email.utils.formatdate(NOW - 90, usegmt=True), 0.0, id="date-in-the-past"),
        pytest.param(None, None, id="missing"),
        pytest.param("", None, id="empty"),
        pytest.param("soon", None, id="garbage"),
        pytest.param("-5", None, id="negative"),
    ],
)
def test_retry_after_takes_seconds_or_an_http_date(
    value: str | None, seconds: float | None
) -> None:
    assert parse_retry_after(value, NOW) == seconds


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        pytest.param("https://h.example/hook", "https://h.example/hook", id="plain"),
        pytest.param(
            "https://u:pw@h.example:8443/x?token=t", "https://***@h.example:8443/x?***", id="creds"
        ),
        pytest.param(
            "https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF1/abcDEF123ghiJKL456mnoPQR",
            "https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF1/***",
            id="token-in-path",
        ),
    ],
)
def test_urls_are_shown_without_credentials_or_query(url: str, shown: str) -> None:
    assert mask_url(url) == shown
