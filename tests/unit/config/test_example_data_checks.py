"""The example file's commented data-store block stays valid: uncommented, it loads, with a
check of every database, broker, websocket and grpc type."""

from __future__ import annotations

import re

from nyxmon.config import load_config_text

from .test_load import EXAMPLE

MARK = "  # - name: Data stores"


def test_the_commented_data_store_checks_are_valid_once_uncommented() -> None:
    text = EXAMPLE.read_text()
    head, found, block = text.partition(MARK)
    assert found, "the example lost its commented data-store block"
    uncommented = "\n".join(re.sub(r"^  # ", "  ", line) for line in (MARK + block).splitlines())
    config = load_config_text(
        head + uncommented, base_dir=EXAMPLE.parent, environ={"PG_PASSWORD": "x"}
    )
    types = {check.type for check in config.checks}
    assert {"postgres", "redis", "amqp", "mqtt", "nats", "websocket", "grpc"} <= types
