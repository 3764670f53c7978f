"""The JSON Schema for editors agrees with the loader on the bundled example and on typos."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from nyxmon.config import config_json_schema

from .test_load import EXAMPLE

jsonschema_rs = pytest.importorskip("jsonschema_rs")


def _example() -> Any:
    return yaml.safe_load(EXAMPLE.read_text())


def test_bundled_example_satisfies_the_schema() -> None:
    validator = jsonschema_rs.validator_for(config_json_schema())
    assert validator.is_valid(_example())


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        pytest.param(lambda d: d["agent"].update(concurency=1), "concurency", id="typo"),
        pytest.param(
            lambda d: d["services"][0]["checks"][0].update(type="htp"), "htp", id="unknown-type"
        ),
        pytest.param(
            lambda d: d["services"][2]["checks"][0].pop("query_name"),
            "apex A record",
            id="missing-param",
        ),
    ],
)
def test_schema_refuses_what_the_loader_refuses(mutate: Any, fragment: str) -> None:
    validator = jsonschema_rs.validator_for(config_json_schema())
    document = _example()
    mutate(document)
    messages = [error.message for error in validator.iter_errors(document)]
    assert any(fragment in message for message in messages), messages


def test_top_level_x_keys_are_allowed_by_the_schema_too() -> None:
    validator = jsonschema_rs.validator_for(config_json_schema())
    assert validator.is_valid({"x-anchors": {"anything": [1, 2]}, "services": []})
