"""``/api/v1/services``: list, get, create, change, delete.

Reads come from the store's read-only connections; every change is a command the agent runs
(``SaveService``, ``RemoveService``), written by the same function as the CLI's. Services from
the config file are read-only (409); a service with checks cannot be deleted (409): delete or
move its checks first.
"""

from __future__ import annotations

from types import MappingProxyType
from urllib.parse import quote

from fastapi import Request, Response

from nyxmon.domain.model import Service
from nyxmon.errors import ServiceNotFoundError
from nyxmon.service_layer.messages import RemoveService, SaveService
from nyxmon.web.api.contract import problems
from nyxmon.web.api.params import bad_parameter
from nyxmon.web.api.schemas import ServiceOut, ServicePut, ServiceWrite, service_out
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
    """Every service with its description, labels and how many of its checks are in each
    state."""
    services = await run_blocking(request, state.context.store.list_services)
    grouped = _by_service(await live_checks(request))
    return [service_out(service, grouped.get(service.name, [])) for service in services]


@router.get("/services/{name}", summary="Get a service")
async def get_service(request: Request, state: State, name: str) -> ServiceOut:
    """One service, as in the list; 404 if there is none of this name."""
    service = await run_blocking(request, state.context.store.get_service, name)
    if service is None:
        raise _not_found(name)
    grouped = _by_service(await live_checks(request))
    return service_out(service, grouped.get(name, []))


@router.post("/services", status_code=201, summary="Create a service", responses=problems(409, 504))
async def create_service(
    request: Request, response: Response, state: State, body: ServiceWrite
) -> ServiceOut:
    """Create a service (name, group, description, labels); 409 if one has the name."""
    service = _service(body)
    await state.context.command(SaveService(service, create=True), state.settings.command_timeout)
    state.live.invalidate()
    response.headers["Location"] = f"/api/v1/services/{quote(service.name, safe='')}"
    return service_out(service, [])


@router.put("/services/{name}", summary="Change a service", responses=problems(409, 504))
async def replace_service(
    request: Request, state: State, name: str, body: ServicePut
) -> ServiceOut:
    """Change a service's group, description or labels (the name in the body must be the
    one in the address). Services from the config file are changed in the file: 409."""
    if body.name is not None and body.name != name:
        raise bad_parameter("name", f"expected the name of the URL ({name!r}), got {body.name!r}")
    service = _service(ServiceWrite.model_construct(**{**body.model_dump(), "name": name}))
    await state.context.command(SaveService(service, create=False), state.settings.command_timeout)
    state.live.invalidate()
    grouped = _by_service(await live_checks(request))
    return service_out(service, grouped.get(name, []))


@router.delete(
    "/services/{name}",
    status_code=204,
    summary="Delete a service without checks",
    responses=problems(409, 504),
)
async def delete_service(request: Request, state: State, name: str) -> Response:
    """Delete a service that has no checks left (409 while it has some, or when it comes
    from the config file)."""
    await state.context.command(RemoveService(name), state.settings.command_timeout)
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
    return ServiceNotFoundError(name)
