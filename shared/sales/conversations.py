"""Conversation lookups: how attribution asks "did this customer chat with a member lately?".

The chat module does not exist yet; when it does it registers a lookup here, so attribution
needs no import of it. A lookup gets the brand handle, the customer's keys (keyed hashes) and a
time range, and answers the latest conversation with a member in that range, or None.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.ports.store import BrandStore


@dataclass(frozen=True)
class ConversationHit:
    """A conversation of the customer with a member, at its latest message time."""

    member_id: str
    at: datetime
    conversation_id: str


ConversationLookup = Callable[[BrandStore, Sequence[str], datetime, datetime], ConversationHit | None]
_lookups: dict[str, ConversationLookup] = {}


def register(name: str, lookup: ConversationLookup) -> None:
    """Add (or replace) a named lookup."""
    _lookups[name] = lookup


def unregister(name: str) -> None:
    """Remove a named lookup (tests)."""
    _lookups.pop(name, None)


def latest(*, store: BrandStore, keys: Sequence[str], since: datetime, until: datetime) -> ConversationHit | None:
    """The latest conversation any registered lookup finds within [since, until]."""
    hits = [hit for lookup in list(_lookups.values()) if (hit := lookup(store, keys, since, until))]
    hits = [hit for hit in hits if since <= hit.at <= until]
    return max(hits, key=lambda hit: hit.at) if hits else None
