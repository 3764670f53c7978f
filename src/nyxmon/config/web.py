"""The ``web:`` section's status pages and security keys, and the rules that span the file.

Kept apart from :mod:`nyxmon.config.schema` so the web plane's keys grow in one place: status
pages (``status_pages: [{slug, title, services, description}]``), the optional bearer token of
``/metrics``, where the first admin password comes from, and whether cookies are HTTPS-only.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

from nyxmon.config._text import did_you_mean, format_path, invalid, show
from nyxmon.config.issues import ConfigIssue
from nyxmon.config.loader import KeyPath

__all__ = [
    "StatusPage",
    "StatusPageSection",
    "check_metrics_token",
    "check_trusted_proxy",
    "resolve_password_file",
    "status_page_issues",
    "status_pages_from",
]

_SLUG_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
_MIN_TOKEN = 16


def _check_slug(value: str) -> str:
    if not _SLUG_RE.fullmatch(value):
        reason = (
            "expected a slug of lower-case letters, digits and '-' (at most 64, not starting "
            f"or ending with '-'), got {show(value)}"
        )
        raise invalid("slug", reason)
    return value


def _check_title(value: str) -> str:
    if not value.strip():
        raise invalid("empty", f"expected a non-empty title, got {show(value)}")
    return value


def check_metrics_token(value: str) -> str:
    """A bearer token short enough to guess is refused: it would guard nothing."""
    if len(value) < _MIN_TOKEN or value.strip() != value:
        raise invalid(
            "metrics_token",
            f"expected a token of at least {_MIN_TOKEN} characters without surrounding "
            f"spaces, got {len(value)} characters",
        )
    return value


def check_trusted_proxy(value: str) -> str:
    """One entry of ``web.trusted_proxies``: an address or a network, normalised
    (``10.1.2.3/8`` becomes ``10.0.0.0/8``)."""
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        raise invalid(
            "trusted_proxy",
            "expected the IP address or CIDR network of a reverse proxy (127.0.0.1, "
            f"10.0.0.0/8, ::1), got {show(value)}",
        ) from None


class StatusPageSection(BaseModel):
    """One public status page: which services it shows, under ``/status/<slug>``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: Annotated[str, AfterValidator(_check_slug)]
    title: Annotated[str, AfterValidator(_check_title)]
    services: list[str] = []
    description: str = ""


@dataclass(frozen=True, slots=True)
class StatusPage:
    """A status page as the web plane gets it; empty ``services`` shows every service."""

    slug: str
    title: str
    services: tuple[str, ...] = ()
    description: str = ""


def status_pages_from(sections: Sequence[StatusPageSection]) -> tuple[StatusPage, ...]:
    return tuple(
        StatusPage(page.slug, page.title, tuple(page.services), page.description)
        for page in sections
    )


def resolve_password_file(value: str | None, base_dir: Path) -> str | None:
    """``web.admin_password_file`` relative to the config file's folder, like the database."""
    if value is None:
        return None
    path = Path(value).expanduser()
    return os.path.normpath(path if path.is_absolute() else base_dir / path)


Locate = Callable[[KeyPath], "int | None"]


def status_page_issues(
    pages: Sequence[StatusPageSection],
    service_names: Sequence[str],
    *,
    locate: Locate,
    filename: str | None,
) -> tuple[list[ConfigIssue], list[ConfigIssue]]:
    """(errors, warnings): a duplicate slug is an error; a service the file does not define is
    a warning, since services created through the API may still appear under that name."""
    errors: list[ConfigIssue] = []
    warnings: list[ConfigIssue] = []
    seen: dict[str, int] = {}
    known = set(service_names)
    for index, page in enumerate(pages):
        path: KeyPath = ("web", "status_pages", index)
        first = seen.setdefault(page.slug, index)
        if first != index:
            other: KeyPath = ("web", "status_pages", first)
            errors.append(
                ConfigIssue(
                    filename,
                    locate((*path, "slug")),
                    format_path((*path, "slug")),
                    f"duplicate status page slug {show(page.slug)}: already used by "
                    f"{format_path(other)} (line {locate(other)})",
                )
            )
        for position, name in enumerate(page.services):
            if name in known:
                continue
            guess = did_you_mean(name, known)
            hint = f"; did you mean {show(guess)}?" if guess else ""
            where: KeyPath = (*path, "services", position)
            warnings.append(
                ConfigIssue(
                    filename,
                    locate(where),
                    format_path(where),
                    f"no service named {show(name)} in this file{hint} (it shows once a "
                    "service of that name exists)",
                )
            )
    return errors, warnings
