"""JSON from outside (request bodies, provider payloads): parsed with every failure mapped to one error.

`json.loads` fails in more ways than `JSONDecodeError`: deep nesting raises RecursionError, an integer
of thousands of digits raises ValueError (Python's limit on int-from-text conversion), bytes that are
not UTF-8 raise UnicodeDecodeError. Each of them is bad input, never a server error.
"""

from __future__ import annotations

import json
from typing import Any

from shared.errors import DomainError


class MalformedJson(DomainError):
    """The body (or a JSON text inside it) cannot be read as JSON."""

    code = "malformed-json"
    status = 400
    title = "The body is not valid JSON"


def parse(raw: bytes | str, *, what: str = "The body") -> Any:
    """The JSON value of `raw`; MalformedJson (400) naming `what` when it is not valid JSON."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        reason = "nested too deeply" if isinstance(exc, RecursionError) else "not valid JSON"
        raise MalformedJson(f"{what} is {reason}", errors=[{"field": "body", "message": reason}]) from exc
