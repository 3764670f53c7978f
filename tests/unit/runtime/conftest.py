from __future__ import annotations

from collections.abc import Iterator

import pytest

from nyxmon.runtime import Runtime

BACKENDS = [
    pytest.param("asyncio", id="asyncio"),
    pytest.param("uvloop", id="uvloop"),
    pytest.param("trio", id="trio"),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def runtime(backend: str) -> Iterator[Runtime]:
    rt = Runtime(backend, name=f"test-{backend}", cancel_grace=2.0)  # type: ignore[arg-type]
    rt.start()
    yield rt
    rt.shutdown(timeout=2.0, drain=False)


@pytest.fixture(params=[pytest.param("asyncio", id="asyncio"), pytest.param("trio", id="trio")])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
