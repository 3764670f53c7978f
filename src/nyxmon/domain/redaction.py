"""Keeping secrets out of every answer, log line and stored error.

A notification URL (``tgram://123456:SECRET/987``), a webhook's signing key, a check's
password or API key: NyxMon holds them to do its job and must never repeat them. Libraries
do not know what is secret (Apprise logs whole URLs in its errors), so the rule here is
positive: every secret NyxMon is given is *registered* (:func:`register`) as it is loaded, and
every text that leaves (an API answer, a log line, an outbox error, a probe message) passes
through :func:`redact`, which replaces any registered secret with ``***``, whoever wrote it.

What counts as secret in a URL: the password, every query value, the user name (except in an
http(s) or ws(s) URL that also has a password, where it is a plain name unless it looks like a
token: masking ``user`` or ``admin`` would garble every message that says "user"), and, for
notification schemes other than http(s) and ws(s) (Apprise puts tokens there), the host and
every path segment; for http(s) webhook URLs, path segments that look like tokens (long and
mixed, as in Slack's ``/services/T0/B0/XXXX``). Short parts (under 4 characters) are never
registered: replacing every ``a`` would destroy the text without protecting anything.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = [
    "MASK",
    "Redactor",
    "mask_url",
    "redact",
    "register",
    "secrets_in_params",
    "secrets_in_url",
]

MASK = "***"
#: Schemes whose host and path are addresses, not tokens (http probes, websocket checks).
_WEB_SCHEMES = ("http", "https", "ws", "wss", "")
_MIN_SECRET = 4
_TOKEN_LIKE = re.compile(r"^(?=.*[A-Za-z])(?=.*\d)[A-Za-z0-9_\-]{16,}$")
#: Keys whose values are secrets wherever they appear in a check's params.
SECRET_KEYS = frozenset(
    {
        "password",
        "passwd",
        "secret",
        "token",
        "bearer_token",
        "api_key",
        "apikey",
        "authorization",
        "private_key",
        "client_secret",
        "dsn",
    }
)


def secrets_in_url(url: str) -> set[str]:
    """The parts of ``url`` that are secret (see the module docstring), decoded and raw."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return set()
    found: set[str] = set()
    web = parts.scheme in _WEB_SCHEMES
    if parts.username and (not web or not parts.password or _TOKEN_LIKE.match(parts.username)):
        found.add(parts.username)
    if parts.password:
        found.add(parts.password)
    found.update(value for _, value in parse_qsl(parts.query, keep_blank_values=False))
    segments = [s for s in parts.path.split("/") if s]
    if not web:
        netloc = parts.netloc.rsplit("@", 1)[-1]
        found.add(netloc)
        found.update(netloc.split(":"))
        found.update(segments)
    else:
        found.update(s for s in segments if _TOKEN_LIKE.match(s))
    if parts.username and parts.password:
        found.add(f"{parts.username}:{parts.password}")
    found |= {unquote(s) for s in found}
    return {s for s in found if len(s) >= _MIN_SECRET}


def secrets_in_params(params: Mapping[str, Any]) -> set[str]:
    """Secrets in a check's params: values under secret-sounding keys (at any depth), every
    ``Authorization``-like header, and the secret parts of any URL value."""
    found: set[str] = set()

    def walk(key: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for inner_key, inner in value.items():
                walk(str(inner_key), inner)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(key, item)
        elif isinstance(value, str) and value:
            lowered = key.lower().replace("-", "_")
            if lowered in SECRET_KEYS or lowered.endswith(("_password", "_token", "_secret")):
                found.add(value)
                found.update(value.split())  # "Bearer xyz": the token alone too
            elif "://" in value:
                found.update(secrets_in_url(value))

    walk("", params)
    return {s for s in found if len(s) >= _MIN_SECRET}


def mask_url(url: str) -> str:
    """``url`` as it may be shown: scheme and host (http), or the scheme alone, credentials,
    query and secret segments replaced by ``***``."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return MASK
    if parts.scheme in _WEB_SCHEMES and parts.scheme:
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        path = "/".join(MASK if _TOKEN_LIKE.match(s) else s for s in parts.path.split("/"))
        query = f"?{MASK}" if parts.query else ""
        creds = f"{MASK}@" if parts.username or parts.password else ""
        return f"{parts.scheme}://{creds}{host}{port}{path}{query}"
    return f"{parts.scheme}://{MASK}" if parts.scheme else MASK


class Redactor:
    """Registered secrets, replaced in any text; thread-safe, cheap when nothing matches.

    Every probe's message passes through :meth:`redact`, and an agent may hold tens of
    thousands of secrets (a ping key per push check). One alternation of them all cost 3.7 ms
    per message at 10,000 keys, since the regex engine tries each alternative at each
    position; the pattern is therefore a trie (:func:`_trie_pattern`), which tries one branch
    per character (50 µs at 10,000 keys), and it is compiled when first needed after a change,
    not on every registration (registering 10,000 keys one by one recompiled it 10,000 times).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._stale = False

    def register(self, secrets: Iterable[str]) -> None:
        new = {s for s in secrets if isinstance(s, str) and len(s) >= _MIN_SECRET}
        with self._lock:
            if new <= self._secrets:
                return
            self._secrets |= new
            self._stale = True

    def redact(self, text: str) -> str:
        if not text:
            return text
        if self._stale:
            self._compile()
        pattern = self._pattern
        if pattern is None:
            return text
        return pattern.sub(MASK, text)

    def _compile(self) -> None:
        with self._lock:
            if self._stale:
                self._pattern = re.compile(_trie_pattern(self._secrets))
                self._stale = False

    def __len__(self) -> int:
        return len(self._secrets)


def _trie_pattern(secrets: Iterable[str]) -> str:
    """A regex matching any of ``secrets``, the longest where several start at one place
    ("user:password" before "user"), shaped as their trie: runs of single characters become
    one literal, so nesting grows with the branching points, not with a secret's length."""
    trie: dict[str, Any] = {}
    for secret in secrets:
        node = trie
        for char in secret:
            node = node.setdefault(char, {})
        node[""] = {}

    def pattern(node: dict[str, Any]) -> str:
        literal: list[str] = []
        while len(node) == 1 and "" not in node:  # a run with no branch and no end: a literal
            ((char, node),) = node.items()
            literal.append(re.escape(char))
        ends = "" in node
        branches = [re.escape(char) + pattern(child) for char, child in node.items() if char]
        if not branches:
            return "".join(literal)
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return "".join(literal) + (f"(?:{body})?" if ends else body)

    return pattern(trie)


_REDACTOR = Redactor()


def register(secrets: Iterable[str]) -> None:
    """Make these secrets unsayable in this process from now on."""
    _REDACTOR.register(secrets)


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    return _REDACTOR.redact(text)
