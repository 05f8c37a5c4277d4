"""What a batch line did: one shape for products, categories and stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeVar

from pydantic import BaseModel, ValidationError

from shared.errors import InvalidInput

Outcome = Literal["created", "updated", "unchanged", "rejected"]
OUTCOMES: tuple[Outcome, ...] = ("created", "updated", "unchanged", "rejected")
M = TypeVar("M", bound=BaseModel)


@dataclass
class LineResult:
    """One line of a batch: its index, its id (when it had a readable one), the outcome, why it was rejected."""

    index: int
    id: str | None
    outcome: Outcome
    errors: list[dict[str, str]] = field(default_factory=list)


def count_outcomes(results: list[LineResult]) -> dict[str, int]:
    """How many lines came out each way (every outcome named, zeros included)."""
    counts = dict.fromkeys(OUTCOMES, 0)
    for result in results:
        counts[result.outcome] += 1
    return counts


def validation_errors(exc: ValidationError) -> list[dict[str, str]]:
    """The fields and the rules a line broke; a message never quotes the input back."""
    return [{"field": ".".join(str(part) for part in error["loc"]) or "body",
             "message": error["msg"].removeprefix("Value error, ")} for error in exc.errors(include_input=False)]


def line_id(line: object) -> str | None:
    """The id a malformed line gave, when it gave a string."""
    value = line.get("id") if isinstance(line, dict) else None
    return value if isinstance(value, str) else None


def check_size(lines: list[object], *, limit: int, field: str, what: str) -> None:
    """More lines than a request may carry: 422 naming the list, and nothing is applied."""
    if len(lines) > limit:
        raise InvalidInput(f"At most {limit} {what} per request; send more in several batches",
                           errors=[{"field": field, "message": f"at most {limit} lines"}])


def checked(index: int, line: object, model: type[M], seen: set[str]) -> M | LineResult:
    """A line validated as `model`, or the result rejecting it: malformed, or an id an earlier line gave."""
    try:
        item = model.model_validate(line)
    except ValidationError as exc:
        return LineResult(index, line_id(line), "rejected", validation_errors(exc))
    item_id = getattr(item, "id")  # noqa: B009 - every batch model has an id
    if item_id in seen:
        return LineResult(index, item_id, "rejected",
                          [{"field": "id", "message": "the same id came earlier in this batch"}])
    seen.add(item_id)
    return item
