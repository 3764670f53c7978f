"""Booleans as the config file spells them: ``true`` and ``false``, nothing else.

The YAML loader follows the 1.2 core schema, so ``yes``, ``no``, ``on`` and ``off`` arrive as
text; pydantic's lax ``bool`` would then turn ``"yes"`` back into True (and ``"off"`` into
False), so ``paused: off`` would pass although the README says those words are text. This type
takes real booleans and the words ``true``/``false`` (what ``${VAR}`` substitution yields),
and refuses the rest with a message saying what to write. The check types' params use it too,
so the file, the API, the form and the CLI agree.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

__all__ = ["Boolean"]

_WORDS = {"true": True, "false": False}
_YAML11 = frozenset({"yes", "no", "y", "n", "on", "off"})
# Errors of this kind are shown word for word by the config's messages (its "nyxmon_" kinds).
_ERROR_KIND = "nyxmon_boolean"


def _validate(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    hint = ""
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _WORDS:
            return _WORDS[word]
        shown = json.dumps(value if len(value) <= 40 else value[:37] + "...", ensure_ascii=False)
        hint = " (yes/no/on/off are text here)" if word in _YAML11 else ""
    elif value is None:
        shown = "null"
    elif isinstance(value, int | float):
        shown = "a number"
    else:
        shown = "a list" if isinstance(value, list | tuple) else "a mapping"
    reason = f"expected true or false, got {shown}{hint}; write true or false"
    raise PydanticCustomError(_ERROR_KIND, "{reason}", {"reason": reason})


Boolean = Annotated[bool, PlainValidator(_validate), WithJsonSchema({"type": "boolean"})]
"""A pydantic field type: ``true`` or ``false`` (or those words as text), nothing else."""
