"""``/api/v1/services``: list, get, create, change, delete.

Services group checks; they are not part of the agent's live state, so the few writes here go
straight to the store in a short unit of work (in a worker thread), never through the web
loop. Services from the config file are read-only (409); a service with checks cannot be
deleted (409): delete or move its checks first.
"""

from __future__ import annotations

from types import MappingProxyType
from urllib.parse import quote

from fastapi import Request, Response

from nyxmon.domain.model import CheckSource, Service
from nyxmon.errors import ConflictError
from nyxmon.service_layer.storage import Store
from nyxmon.web.api.params import bad_parameter
from nyxmon.web.api.schemas import ServiceOut, ServiceWrite, service_out
from nyxmon.web.deps import State, api_router, live_checks, run_blocking
from nyxmon.web.live import CheckView

__all__ = ["router"]

router = api_router(tags=["services"])


def _by_service(views: tuple[CheckView, ...]) -> dict[str, list[CheckView]]:
    grouped: dict[str, list[CheckView]] = {}
    for view in views:
        grouped.setdefault(view.check.service, []).append(view)
    return grouped


@router.get("/services", summary="List services with their checks' states")
async def list_services(request: Request, state: State) -> list[ServiceOut]:
    services = await run_blocking(request, state.context.store.list_services)
    grouped = _by_service(await live_checks(request))
    return [service_out(service, grouped.get(service.name, [])) for service in services]


@router.get("/services/{name}", summary="Get a service")
async def get_service(request: Request, state: State, name: str) -> ServiceOut:
    service = await run_blocking(request, state.context.store.get_service, name)
    if service is None:
        raise _not_found(name)
    grouped = _by_service(await live_checks(request))
    return service_out(service, grouped.get(name, []))


@router.post("/services", status_code=201, summary="Create a service")
async def create_service(
    request: Request, response: Response, state: State, body: ServiceWrite
) -> ServiceOut:
    service = _service(body)
    await run_blocking(request, _write, state.context.store, service, create=True)
    state.live.invalidate()
    response.headers["Location"] = f"/api/v1/services/{quote(service.name, safe='')}"
    return service_out(service, [])


@router.put("/services/{name}", summary="Change a service")
async def replace_service(
    request: Request, state: State, name: str, body: ServiceWrite
) -> ServiceOut:
    if body.name != name:
        raise bad_parameter("name", f"expected the name of the URL ({name!r}), got {body.name!r}")
    service = _service(body)
    await run_blocking(request, _write, state.context.store, service, create=False)
    state.live.invalidate()
    grouped = _by_service(await live_checks(request))
    return service_out(service, grouped.get(name, []))


@router.delete("/services/{name}", status_code=204, summary="Delete a service without checks")
async def delete_service(request: Request, state: State, name: str) -> Response:
    await run_blocking(request, _delete, state.context.store, name)
    state.live.invalidate()
    return Response(status_code=204)


def _service(body: ServiceWrite) -> Service:
    return Service(
        name=body.name,
        group=body.group,
        labels=MappingProxyType(dict(body.labels)),
        description=body.description,
    )


def _not_found(name: str) -> Exception:
    from nyxmon.web.problems import Problem

    return Problem(404, f"no service named {name!r}", kind="service-not-found")


def _write(store: Store, service: Service, *, create: bool) -> None:
    existing = store.get_service(service.name)
    if create and existing is not None:
        raise ConflictError(f"service {service.name!r} exists already; PUT to change it")
    if not create and existing is None:
        raise _not_found(service.name)
    with store.transaction() as tx:
        tx.services.upsert(service, source=CheckSource.API)  # ConflictError for config ones
        tx.commit()


def _delete(store: Store, name: str) -> None:
    from nyxmon.service_layer.records.catalog import CheckQuery

    if store.get_service(name) is None:
        raise _not_found(name)
    checks = store.list_checks(CheckQuery(service=name, archived=None, limit=1))
    if checks.total:
        raise ConflictError(
            f"service {name!r} still has {checks.total} check(s); delete or move them first"
        )
    with store.transaction() as tx:
        if name in {s.name for s in tx.services.all(source=CheckSource.CONFIG)}:
            raise ConflictError(f"service {name!r} is defined in the config file; remove it there")
        tx.services.delete(name)
        tx.commit()
