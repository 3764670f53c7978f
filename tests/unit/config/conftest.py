"""Shared helpers for the config tests: a small check-type registry and loaders."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import pytest
from pydantic import AnyHttpUrl, BaseModel, ConfigDict

from nyxmon.config import ConfigIssue, ConfigValidationError, Duration, load_config_text

FIXTURES = Path(__file__).parent / "fixtures"


class FakeHttpParams(BaseModel):
    """Stands in for the http probe's params model until the probe registry lands."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: AnyHttpUrl
    method: Literal["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"] = "GET"
    headers: dict[str, str] = {}
    body: str | None = None
    max_response_time: Duration | None = None
    follow_redirects: bool = True


class FakeDnsParams(BaseModel):
    """Stands in for the dns probe's params model until the probe registry lands."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    query: str
    record_type: Literal["A", "AAAA", "CNAME", "MX", "NS", "TXT", "SOA", "SRV", "PTR"] = "A"
    server: str | None = None
    port: int = 53


FAKE_REGISTRY: Mapping[str, type[BaseModel]] = {"http": FakeHttpParams, "dns": FakeDnsParams}


def errors_of(
    text: str,
    *,
    environ: Mapping[str, str] | None = None,
    registry: Mapping[str, type[BaseModel]] | None = None,
) -> list[ConfigIssue]:
    """Every issue of ``text`` (named ``test.yaml``, real registry); fails the test if it loads."""
    with pytest.raises(ConfigValidationError) as caught:
        load_config_text(text, filename="test.yaml", environ=environ or {}, registry=registry)
    return caught.value.errors
