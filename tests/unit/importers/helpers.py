"""Reading an imported file back: its live checks by id, and a commented-out item uncommented."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from nyxmon.checktypes import CHECK_TYPES, CheckType
from nyxmon.domain.model import check_id_for
from nyxmon.importers import ImportDraft, finish

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "imports"


#: The registry these tests import against: every registered type but ``push`` (issue 16 adds
#: it). Pinning its absence keeps the "needs check type push" expectations meaningful whether or
#: not push is merged; the test that registers a fake type shows the live form.
REGISTERED = {name: check_type for name, check_type in CHECK_TYPES.items() if name != "push"}


def text_of(
    draft: ImportDraft,
    environ: dict[str, str] | None = None,
    types: Mapping[str, CheckType] | None = None,
) -> str:
    return finish(
        draft,
        "test import",
        environ={} if environ is None else environ,
        types=REGISTERED if types is None else types,
    )


def live_checks(text: str) -> dict[str, dict[str, Any]]:
    """Every live check of the file, by id, as the YAML says it."""
    document = yaml.safe_load(text)
    checks: dict[str, dict[str, Any]] = {}
    for service in document.get("services") or []:
        for check in service.get("checks") or []:
            checks[check_id_for(service["name"], check["name"])] = check
    return checks


def live_routes(text: str) -> dict[str, dict[str, Any]]:
    document = yaml.safe_load(text)
    return {route["name"]: route for route in (document.get("alerting") or {}).get("routes") or []}


def held(text: str, name: str) -> tuple[str, dict[str, Any]]:
    """The reason and the uncommented YAML of the commented-out item called ``name``."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"^(\s*)# - name: (.*)$", line)
        if match and yaml.safe_load(match.group(2)) == name:
            indent = match.group(1)
            reason = lines[index - 1].strip().removeprefix("# not live: ")
            block = [line.replace("# - ", "- ", 1)]
            for follow in lines[index + 1 :]:
                if not follow.startswith(f"{indent}#   "):
                    break
                block.append(follow.replace("#   ", "  ", 1))
            [item] = yaml.safe_load("\n".join(b[len(indent) :] for b in block))
            return reason, item
    raise AssertionError(f"no commented-out item named {name!r}")
