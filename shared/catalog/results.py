"""What a batch line did: one shape for products, categories and stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import ValidationError

Outcome = Literal["created", "updated", "unchanged", "rejected"]


@dataclass
class LineResult:
    """One line of a batch: its index, its id (when it had a readable one), the outcome, why it was rejected."""

    index: int
    id: str | None
    outcome: Outcome
    errors: list[dict[str, str]] = field(default_factory=list)


def validation_errors(exc: ValidationError) -> list[dict[str, str]]:
    """The fields and the rules a line broke; a message never quotes the input back."""
    return [{"field": ".".join(str(part) for part in error["loc"]) or "body",
             "message": error["msg"].removeprefix("Value error, ")} for error in exc.errors(include_input=False)]


def line_id(line: object) -> str | None:
    """The id a malformed line gave, when it gave a string."""
    value = line.get("id") if isinstance(line, dict) else None
    return value if isinstance(value, str) else None
