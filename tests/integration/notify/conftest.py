from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from tests.servers.webhook_receiver import WebhookReceiver, serve_webhook_receiver

from nyxmon.runtime import OffloadPool

SECRET = "integration-secret"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with serve_webhook_receiver(secret=SECRET) as hook:
        yield hook


@pytest.fixture
def pool() -> Iterator[OffloadPool]:
    offload = OffloadPool("notify-test", workers=4)
    yield offload
    offload.shutdown(timeout=10)
