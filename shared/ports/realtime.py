"""The realtime port: the server pushes envelopes to groups of WebSocket connections (docs/realtime.md).

The store is the record: a feature writes first, then publishes; a client that missed a push catches
up by cursor over HTTP. So a publish is a hint, best effort: an adapter raises TransientError when
the push could not be handed over, and the caller (shared.realtime.access.publish) logs and goes on.

Two adapters, the same envelopes and the same group names:
- `webpubsub` (production): Azure Web PubSub, a client token whose roles join only the named groups.
- `local` (default): a WebSocket hub in the same uvicorn process, served at LOCAL_HUB_PATH.

Groups are named by `group_name`, always starting with the brand ("brand:<brandId>:<kind>:<id>"),
and an adapter refuses an envelope whose brandId is not the group's brand: no brand reaches another's.
"""

from __future__ import annotations

import re
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# The local hub's WebSocket route (functions/http_api/routers/platform/realtime.py).
LOCAL_HUB_PATH = "/api/v1/realtime/ws"
# The client subprotocol both adapters speak (Web PubSub's JSON PubSub subprotocol).
SUBPROTOCOL = "json.webpubsub.azure.v1"
DEFAULT_TTL = timedelta(minutes=60)
MAX_TTL = timedelta(hours=24)
# One client token names at most this many groups (its roles travel in the token and the URL).
MAX_GROUPS = 50

GROUP_KINDS = frozenset({"conversation", "member", "brand", "visitor", "waiting-list"})
_PART = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
_GROUP = re.compile(r"^brand:([A-Za-z0-9_.\-]{1,128}):([a-z\-]{1,32}):([A-Za-z0-9_.\-]{1,128})$")


def group_name(*, brand_id: str, kind: str, item_id: str) -> str:
    """The one spelling of a group: "brand:<brandId>:<kind>:<id>"; ValueError for an unknown kind or odd id."""
    if kind not in GROUP_KINDS:
        raise ValueError(f"unknown realtime group kind: {kind}")
    for part in (brand_id, item_id):
        if not _PART.match(part or ""):
            raise ValueError("a realtime group part holds letters, digits, '_', '.' and '-' only")
    return f"brand:{brand_id}:{kind}:{item_id}"


def conversation_group(*, brand_id: str, conversation_id: str) -> str:
    return group_name(brand_id=brand_id, kind="conversation", item_id=conversation_id)


def member_group(*, brand_id: str, member_id: str) -> str:
    return group_name(brand_id=brand_id, kind="member", item_id=member_id)


def brand_of_group(group: str) -> str:
    """The brand a group belongs to; ValueError when `group` is not a name group_name makes."""
    match = _GROUP.match(group or "")
    if match is None or match.group(2) not in GROUP_KINDS:
        raise ValueError("not a realtime group name")
    return match.group(1)


def envelope(
    *, type: str, brand_id: str, data: dict[str, Any], sent_at: datetime, id: str | None = None  # noqa: A002
) -> dict[str, Any]:
    """The one envelope shape both adapters carry: {type, brandId, data, id, sentAt}.

    `type` names the event ("conversation.message", ...), `data` is what the client needs to render it
    (an id and a cursor at least: the store is the record), `id` is unique per envelope (clients drop a
    repeat), `sentAt` is ISO 8601 UTC.
    """
    if not type or not isinstance(data, dict):
        raise ValueError("an envelope has a type and a data object")
    if not _PART.match(brand_id or ""):
        raise ValueError("not a brand id")
    return {
        "type": type,
        "brandId": brand_id,
        "data": data,
        "id": id or uuid.uuid4().hex,
        "sentAt": sent_at.isoformat().replace("+00:00", "Z"),
    }


def check_publish(group: str, message: dict[str, Any]) -> None:
    """What every adapter checks before a publish: a group name, and an envelope of the group's brand."""
    brand = brand_of_group(group)
    missing = {"type", "brandId", "data", "id", "sentAt"} - set(message)
    if missing:
        raise ValueError(f"envelope without {', '.join(sorted(missing))}")
    if message["brandId"] != brand:
        raise ValueError("an envelope is published to its own brand's groups only")


def check_access(groups: list[str], ttl: timedelta) -> None:
    """What every adapter checks before handing out a client token."""
    if len(groups) > MAX_GROUPS:
        raise ValueError(f"a client token names at most {MAX_GROUPS} groups")
    for group in groups:
        brand_of_group(group)
    if not timedelta(0) < ttl <= MAX_TTL:
        raise ValueError("a client token lives between 0 and 24 hours")


@dataclass(frozen=True)
class ClientAccess:
    """What a client needs to connect: a WebSocket URL (the token in it), the token, when it expires."""

    url: str
    token: str | None
    expires_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {"url": self.url, "token": self.token, "expiresAt": self.expires_at.isoformat().replace("+00:00", "Z")}


class Realtime(ABC):
    """Pushes envelopes to groups of client connections, and hands out connection tokens."""

    @abstractmethod
    def publish(self, group: str, message: dict[str, Any]) -> None:
        """Send `message` (an `envelope`) to every connection joined to `group`; TransientError on failure.

        Callable from any thread (FastAPI runs sync routes in a thread pool).
        """

    @abstractmethod
    def client_access(self, *, user_id: str, groups: list[str], ttl: timedelta = DEFAULT_TTL) -> ClientAccess:
        """A URL and token for `user_id` that joins `groups` on connect and may join or leave only those."""

    @abstractmethod
    def is_online(self, user_id: str) -> bool:
        """Whether `user_id` has a connection open now (a hint: it may close the next instant)."""

    def close(self) -> None:  # noqa: B027 - optional for adapters holding nothing
        """Release what the adapter holds."""
