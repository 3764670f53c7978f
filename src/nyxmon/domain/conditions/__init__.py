"""The condition language: Gatus-compatible checks on what a probe observed.

A condition compares two operands, ``[STATUS] == 200``, and names the actual values when it
fails: ``[STATUS] (503) == 200``. Conditions are compiled once (:func:`compile_condition`) and
evaluated against an :class:`Observation` for every probe run.

Placeholders (names are case-insensitive):

- ``[STATUS]`` HTTP status; ``[BODY]`` the body as text, ``[BODY].a.b[0]`` a JSON value;
  ``[BODY_SIZE]`` bytes; ``[HEADERS].content-type`` a response header;
- ``[RESPONSE_TIME]`` milliseconds; ``[CONNECTED]`` true/false;
  ``[CERTIFICATE_EXPIRATION]`` time left on the peer certificate, in milliseconds;
  ``[DOMAIN_EXPIRATION]`` time left on the domain's registration (RDAP), in milliseconds;
- ``[DNS_RCODE]`` ``NOERROR``/``NXDOMAIN``/...; ``[IP]`` the first address, ``[IPS]`` all of
  them; ``[ANSWERS]`` every DNS answer as text; ``[PACKET_LOSS]`` the percentage of pings lost;
- ``[VALUE]`` the first value a database or broker check's query returned, ``[VALUE].a`` a key
  of it when it is a document (a JSON column);
- ``[EXIT_STATUS]`` the exit status a push check's ping reported, ``[DURATION]`` its run from
  start ping to end (a duration: ``[DURATION] < 10m``).

Operators ``== != < <= > >=``. Functions: ``len(x)`` (characters, items), ``has(x)`` (a path or
header holds a value, a value is non-empty), ``pat(glob)`` (Gatus's globs: ``*``, ``?``,
``[a-z]``, ``[^0-9]``, ``\\*``), ``any(v1, v2)``, plus
whole-condition forms ``any([STATUS], 200, 201)`` and ``has([BODY].errors)``.

Values compare as numbers when both read as numbers (``0x1F``, ``0o17``, ``0b101`` included), as
booleans against ``true``/``false``, else as text. Ordering needs numbers; durations (``48h``,
``7d``, ``1h30m``, ``250ms``) count as milliseconds, so ``[CERTIFICATE_EXPIRATION] > 7d`` and
``[RESPONSE_TIME] < 1s`` read naturally. A value the observation lacks (a missing JSON key, no
body, no status on a DNS probe) makes the condition fail, for ``!=`` too, with the reason as the
actual value; use ``has()`` to test for presence.
"""

from __future__ import annotations

from nyxmon.domain.conditions._condition import Condition, ConditionOutcome, evaluate_all
from nyxmon.domain.conditions._observation import Missing, Observation
from nyxmon.domain.conditions._operands import PLACEHOLDERS, PlaceholderInfo
from nyxmon.domain.conditions._parser import compile_condition
from nyxmon.domain.conditions._values import (
    format_duration_ms,
    parse_duration_ms,
    render,
    truncate,
)

__all__ = [
    "PLACEHOLDERS",
    "Condition",
    "ConditionOutcome",
    "Missing",
    "Observation",
    "PlaceholderInfo",
    "compile_condition",
    "evaluate_all",
    "format_duration_ms",
    "parse_duration_ms",
    "render",
    "truncate",
]
