"""How one warehouse column is read from a production document, and which document paths it reads.

A column names the paths it reads (`Read.paths`; "a.*" is every key of the map at "a", "a[].b" the
field b of each item of the list at "a"), so a test can hold every path of every exported document
against the allow-list: each path is read by a column or withheld with a reason
(`shared.warehouse.tables`). Readers return plain JSON values, coarsened where the guide asks
(days instead of instants, a year instead of a birth date, a city-level geocode).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.ports.store import Document


@dataclass(frozen=True)
class Context:
    """What some columns need beyond their document: the snapshot's own references and the brand's link ids."""

    # A keyed reference of a production id, valid within one brand's snapshot of one day only.
    reference: Callable[[str], str]
    # The link id behind a short code of this brand, or None.
    link_id: Callable[[str], str | None]


@dataclass(frozen=True)
class Read:
    """A reader of one column: the document paths it reads and how."""

    paths: tuple[str, ...]
    fn: Callable[[Document, Context], Any]

    def __call__(self, doc: Document, context: Context) -> Any:
        return self.fn(doc, context)


@dataclass(frozen=True)
class Column:
    """One exported field: its name in the snapshot, how it is read, and why it may leave."""

    name: str
    read: Read
    why: str


def at(doc: Any, path: str) -> Any:
    """The value at a dotted path, None when any step is missing."""
    value = doc
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def text(path: str) -> Read:
    """A non-empty string, else None."""
    def read(doc: Document, _: Context) -> str | None:
        value = at(doc, path)
        return value if isinstance(value, str) and value else None

    return Read((path,), read)


def integer(path: str) -> Read:
    """An integer (never a boolean), else None."""
    def read(doc: Document, _: Context) -> int | None:
        value = at(doc, path)
        return value if _is_int(value) else None

    return Read((path,), read)


def flag(path: str, default: bool) -> Read:
    """A boolean, else `default` (the model's own default)."""
    def read(doc: Document, _: Context) -> bool:
        value = at(doc, path)
        return value if isinstance(value, bool) else default

    return Read((path,), read)


def present(path: str) -> Read:
    """Whether a value is there (a consent record becomes a boolean)."""
    return Read((path,), lambda doc, _: at(doc, path) is not None)


def day_of(value: Any) -> str | None:
    """An instant (or a day) cut to its date: the warehouse needs no finer time of a person's doings."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        return None


def day(path: str) -> Read:
    """The date of an instant (see `day_of`)."""
    return Read((path,), lambda doc, _: day_of(at(doc, path)))


def length(path: str) -> Read:
    """How many items a list holds (how many refunds), not what they are."""
    def read(doc: Document, _: Context) -> int:
        value = at(doc, path)
        return len(value) if isinstance(value, list) else 0

    return Read((path,), read)


_CURRENCY = re.compile(r"^[A-Z]{3}$")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def _int_map(path: str, key: re.Pattern[str]) -> Read:
    def read(doc: Document, _: Context) -> dict[str, int]:
        value = at(doc, path)
        if not isinstance(value, dict):
            return {}
        return {name: amount for name, amount in sorted(value.items())
                if isinstance(name, str) and key.match(name) and _is_int(amount)}

    return Read((path, f"{path}.*"), read)  # the map and each of its keys


def money(path: str) -> Read:
    """Amounts per ISO currency in minor units ({"EUR": 1200}); any other key is dropped."""
    return _int_map(path, _CURRENCY)


def tally(path: str) -> Read:
    """Counts per reason code ({"no_email": 2}); a key that is not a code the platform writes is dropped."""
    return _int_map(path, _CODE)


def rows(path: str, columns: tuple[Column, ...]) -> Read:
    """A list of sub-documents, each reduced to its own allow-list (order lines, refunds)."""
    paths = tuple(f"{path}[].{sub}" for column in columns for sub in column.read.paths)

    def read(doc: Document, context: Context) -> list[dict[str, Any]]:
        items = at(doc, path)
        if not isinstance(items, list):
            return []
        return [anonymise(item, columns, context) for item in items if isinstance(item, dict)]

    return Read(paths, read)


def anonymise(doc: Document, columns: tuple[Column, ...], context: Context) -> dict[str, Any]:
    """The exported row of one document: exactly the allow-listed columns, in order."""
    return {column.name: column.read(doc, context) for column in columns}
