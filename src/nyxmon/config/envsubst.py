"""``${VAR}`` and ``${VAR:-default}`` in config strings, with ``$${...}`` for a literal ``${...}``.

Substitution runs on string values *after* the YAML is parsed, so a variable can never change
the structure of the file and every line number stays true. A value like ``"${PORT}"`` stays a
string; the schema converts it (``"500"`` is a fine integer) and complains if it is not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["SubstitutionError", "substitute"]

_TOKEN_RE = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SubstitutionError(ValueError):
    """One string refers to variables that are unset, or spells a reference wrongly."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def substitute(text: str, environ: Mapping[str, str]) -> str:
    """``text`` with every ``${...}`` replaced from ``environ``.

    ``${VAR:-default}`` uses the default when VAR is unset *or empty*, as in the shell. Every
    problem of the string is reported at once.
    """
    if "$" not in text:
        return text
    problems: list[str] = []

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "$${":
            return "${"
        body = match.group(1)
        if body is None:
            problems.append(f"unclosed variable reference at {text[match.start() :]!r}: add '}}'")
            return token
        name, sep, default = body.partition(":-")
        if not _NAME_RE.fullmatch(name):
            problems.append(
                f"malformed variable reference {token!r}: expected ${{NAME}} or "
                "${NAME:-default} (write $${...} for a literal)"
            )
            return token
        value = environ.get(name)
        if sep:
            return value if value else default
        if value is None:
            problems.append(
                f"environment variable {name} is not set "
                f"(set it, or give a default: ${{{name}:-value}})"
            )
            return token
        return value

    result = _TOKEN_RE.sub(replace, text)
    if problems:
        raise SubstitutionError(problems)
    return result
