"""``nyxmon notify routes|test|outbox``: the config's alert routes, a test message through one,
and the notifications in the outbox.

``notify test ROUTE`` renders a TEST notice with the route's templates, sends it through the
route's provider right now (no outbox, no retries) and prints the provider's answer: exit 0 when
it was delivered, 1 when it was not (the provider failed, the route is unknown or cannot be
built), like every command's "not found"; 2 is kept for a command line typer cannot parse.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from pathlib import Path

import anyio
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from nyxmon.cli._common import (
    ConfigOption,
    DbOption,
    JsonOption,
    ago,
    console,
    err,
    load,
    open_cli_store,
    plural,
    print_json,
)
from nyxmon.domain.alerting.types import Route
from nyxmon.domain.redaction import mask_url
from nyxmon.errors import NotificationError
from nyxmon.notify.base import Provider
from nyxmon.notify.records import Delivery, OutgoingMessage, redacted
from nyxmon.notify.registry import ProviderContext, provider_for
from nyxmon.notify.trial import trial_message
from nyxmon.runtime import OffloadPool
from nyxmon.service_layer.records.alerts import OutboxEntry

__all__ = ["app", "describe_route", "send_test"]

app = typer.Typer(
    help="Alert routes and notifications: list routes, send a test, inspect the outbox.",
    no_args_is_help=True,
)


def _config_routes(path: Path | None) -> tuple[tuple[Route, ...], str]:
    loaded = load(path)
    # LoadedConfig.routes comes with the alerting config section.
    routes: tuple[Route, ...] = tuple(getattr(loaded, "routes", ()))
    return routes, loaded.agent.web.public_url


def describe_route(route: Route) -> str:
    """Where a route sends, without secrets: ``webhook -> http://host/path``."""
    if route.kind == "webhook":
        return f"webhook -> {mask_url(route.webhook_url) if route.webhook_url else '?'}"
    if route.telegram is not None:
        from nyxmon.notify.telegram import telegram_target  # aiohttp: only when asked

        return f"telegram -> {telegram_target(route.telegram)}"
    schemes = [mask_url(url) for url in route.urls]
    return f"{route.kind} -> {', '.join(schemes) or 'no urls'}"


async def _send(provider: Provider, message: OutgoingMessage) -> Delivery:
    try:
        return redacted(await provider.send(message))
    finally:
        await provider.aclose()


def send_test(
    name: str,
    routes: Sequence[Route],
    *,
    public_url: str,
    out: Console = console,
    errors: Console = err,
) -> int:
    """Send a test message through route ``name``; the exit code (module docstring)."""
    route = next((r for r in routes if r.name == name), None)
    if route is None:
        known = ", ".join(r.name for r in routes) or "none are configured"
        problem = f"ROUTE: no route named {name!r}; known routes: {known}"
        errors.print(f"[bold red]error:[/] {escape(problem)}", soft_wrap=True)
        return 1
    pool = OffloadPool("notify-test", workers=1, queue_size=4)
    try:
        try:
            provider = provider_for(route, ProviderContext(pool=pool))
        except NotificationError as exc:
            errors.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
            return 1
        message = trial_message(route, public_url, "Sent by `nyxmon notify test`.")
        out.print(f"route {route.name}: {describe_route(route)}")
        delivery = anyio.run(_send, provider, message)
    finally:
        pool.shutdown(timeout=5.0)
    if delivery.ok:
        out.print(f"[green]delivered[/]: {delivery.answer or 'no answer text'}")
        return 0
    errors.print(f"[bold red]failed[/]: {delivery.error}")
    if delivery.answer and delivery.answer not in delivery.error:
        errors.print(f"provider answered: {delivery.answer}")
    return 1


@app.command("test")
def notify_test_command(
    route: str = typer.Argument(..., help="The route's name, as in the config's alerting.routes."),
    config: Path | None = ConfigOption,
) -> None:
    """Send a test notification through ROUTE and print the provider's answer."""
    routes, public_url = _config_routes(config)
    raise typer.Exit(send_test(route, routes, public_url=public_url))


@app.command("routes")
def routes_command(config: Path | None = ConfigOption) -> None:
    """The alert routes of the config and what each one takes."""
    routes, _ = _config_routes(config)
    if not routes:
        console.print("no alert routes are configured")
        return
    table = Table(title=plural(len(routes), "route"))
    for column in ("name", "sends to", "default", "takes"):
        table.add_column(column)
    for route in routes:
        match = route.match
        takes = [
            f"services {', '.join(match.services)}" if match.services else "",
            f"checks {', '.join(match.checks)}" if match.checks else "",
            ", ".join(f"{k}={v}" for k, v in match.labels.items()),
            f"kinds {', '.join(k.value for k in match.kinds)}" if match.kinds else "",
            f">= {match.min_severity.value}",
        ]
        table.add_row(
            escape(route.name),
            escape(describe_route(route)),
            "yes" if route.default else "",
            escape("; ".join(part for part in takes if part)),
        )
    console.print(table)


class OutboxStatus(enum.StrEnum):
    """Which notifications ``notify outbox`` lists."""

    PENDING = "pending"
    GIVEN_UP = "given_up"
    DELIVERED = "delivered"
    ALL = "all"


_STATUS_ORDER = ("pending", "given_up", "delivered")


@app.command("outbox")
def outbox_command(
    status: OutboxStatus = typer.Option(  # noqa: B008
        OutboxStatus.PENDING, "--status", help="Which notifications to list."
    ),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="The newest this many."),
    as_json: bool = JsonOption,
    config: Path | None = ConfigOption,
    db: Path | None = DbOption,
) -> None:
    """Notifications in the outbox, newest first: those still being retried (with their last
    error), or those given up, or delivered. Exits 1 if any notification was given up."""
    store = open_cli_store(config, db, readonly=True)
    try:
        wanted = None if status is OutboxStatus.ALL else status.value
        items = store.outbox(status=wanted, limit=limit, newest_first=True)
        counts = store.outbox_counts()
    finally:
        store.close()
    if as_json:
        from nyxmon.cli.json_shapes import outbox_document

        print_json(outbox_document(items, counts, status.value))
    else:
        console.print(_outbox_summary(counts))
        matching = sum(counts.values()) if wanted is None else counts.get(wanted, 0)
        console.print(_outbox_caption(status, len(items), matching))
        if items:
            console.print(_outbox_table(items))
    raise typer.Exit(1 if counts.get("given_up") else 0)


def _outbox_summary(counts: Mapping[str, int]) -> str:
    """``outbox: 0 pending, 1 given up, 6 delivered`` (every status, in the same order)."""
    known = [*_STATUS_ORDER, *sorted(set(counts) - set(_STATUS_ORDER))]
    return "outbox: " + ", ".join(f"{counts.get(s, 0)} {s.replace('_', ' ')}" for s in known)


def _outbox_caption(status: OutboxStatus, shown: int, matching: int) -> str:
    """What the table below holds, so a summary of other statuses never reads as its total."""
    noun = "notification"
    if status is not OutboxStatus.ALL:
        noun = f"{status.value.replace('_', ' ')} notification"
    if matching == 0:
        hint = "" if status is OutboxStatus.ALL else " (--status all lists every one)"
        return f"no {noun}s{hint}"
    if shown < matching:
        return f"the newest {shown} of {plural(matching, noun)}:"
    return f"{plural(matching, noun)}, newest first:"


def _outbox_table(items: Sequence[OutboxEntry]) -> Table:
    table = Table()
    for column in ("id", "created", "check", "kind", "route", "status", "attempts", "last error"):
        table.add_column(column)
    for item in items:
        table.add_row(
            str(item.id),
            ago(item.created_at),
            escape(item.check_id),
            item.kind,
            escape(item.route),
            item.status,
            str(item.attempts),
            escape(item.last_error[:80]),
        )
    return table
