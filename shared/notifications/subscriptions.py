"""A member's push subscriptions, one per device (container `push_subscriptions`, member data).

A subscription is what the browser's `PushManager.subscribe()` returns: the push service's endpoint
(an https capability URL) and the device's keys (`p256dh`, a P-256 public key, and `auth`, 16 bytes).
Its id is a hash of the endpoint, so registering the same device again updates it instead of adding
a second one; a device registered by another member of the brand (a shared browser) moves to the
member who registered it last. A member sees and deletes their own subscriptions only (another's: 404).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.clock import isoformat
from shared.errors import NotFound
from shared.identity.models import CamelModel
from shared.ports.notifier import PushTarget
from shared.ports.store import BrandStore, DocumentNotFound, Filter

PUSH_SUBSCRIPTIONS = "push_subscriptions"
MAX_PER_MEMBER = 20  # devices; the oldest one goes when a 21st registers
_PROJECTION = ("memberId", "endpoint", "keys", "label", "createdAt", "updatedAt")


def _b64url(value: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("must be URL-safe base64") from None


class SubscriptionKeys(BaseModel):
    model_config = ConfigDict(extra="forbid")

    p256dh: str = Field(min_length=80, max_length=100, pattern=r"^[A-Za-z0-9_-]+=*$")
    auth: str = Field(min_length=16, max_length=32, pattern=r"^[A-Za-z0-9_-]+=*$")

    @field_validator("p256dh")
    @classmethod
    def _point(cls, value: str) -> str:
        raw = _b64url(value)
        if len(raw) != 65 or raw[0] != 4:
            raise ValueError("must be an uncompressed P-256 public key (65 bytes)")
        return value

    @field_validator("auth")
    @classmethod
    def _secret(cls, value: str) -> str:
        if len(_b64url(value)) != 16:
            raise ValueError("must be a 16-byte authentication secret")
        return value


class SubscriptionCreate(CamelModel):
    """The browser's PushSubscription (`toJSON()`) and a label the member gives the device."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    endpoint: str = Field(min_length=12, max_length=1024)
    keys: SubscriptionKeys
    label: str = Field("", max_length=80)
    expiration_time: int | None = Field(None, description="Ignored: push services rarely set it")

    @field_validator("endpoint")
    @classmethod
    def _https(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
            raise ValueError("must be an https URL of a push service")
        return value

    @field_validator("label")
    @classmethod
    def _label(cls, value: str) -> str:
        return " ".join(value.split())


class SubscriptionRead(CamelModel):
    """A device as the member sees it (the endpoint and keys are not shown back)."""

    id: str
    label: str
    endpoint_origin: str = Field(description="The push service's origin, e.g. https://fcm.googleapis.com")
    created_at: datetime
    updated_at: datetime


def subscription_id(endpoint: str) -> str:
    """The device's id: a hash of its endpoint (one document per device, whoever registers it)."""
    return "ps-" + hashlib.sha256(endpoint.encode("utf-8")).hexdigest()[:40]


def to_read(doc: dict[str, Any]) -> SubscriptionRead:
    parts = urlsplit(doc["endpoint"])
    return SubscriptionRead(id=doc["id"], label=doc.get("label", ""), endpoint_origin=f"https://{parts.netloc}",
                            created_at=doc["createdAt"], updated_at=doc["updatedAt"])


def register(*, store: BrandStore, member_id: str, data: SubscriptionCreate, now: datetime) -> SubscriptionRead:
    """Add or refresh one device of the member (idempotent by endpoint); returns it."""
    sub_id = subscription_id(data.endpoint)
    existing = store.find(PUSH_SUBSCRIPTIONS, sub_id)
    created = existing["createdAt"] if existing and existing.get("memberId") == member_id else isoformat(now)
    doc = {"id": sub_id, "memberId": member_id, "endpoint": data.endpoint,
           "keys": {"p256dh": data.keys.p256dh, "auth": data.keys.auth}, "label": data.label,
           "createdAt": created, "updatedAt": isoformat(now)}
    saved = store.upsert(PUSH_SUBSCRIPTIONS, doc)
    others = sorted((d for d in _of_member(store, member_id) if d["id"] != sub_id), key=lambda d: d["updatedAt"])
    for old in others[: max(len(others) + 1 - MAX_PER_MEMBER, 0)]:
        remove(store=store, subscription_id_=old["id"])
    return to_read(saved)


def _of_member(store: BrandStore, member_id: str) -> list[dict[str, Any]]:
    return store.query_all(PUSH_SUBSCRIPTIONS, filters=[Filter("memberId", "=", member_id)], page_size=100)


def list_for_member(*, store: BrandStore, member_id: str) -> list[SubscriptionRead]:
    """The member's devices, newest registration first."""
    docs = sorted(_of_member(store, member_id), key=lambda d: (d["createdAt"], d["id"]), reverse=True)
    return [to_read(doc) for doc in docs]


def targets(*, store: BrandStore, member_id: str) -> list[PushTarget]:
    """Where a push to this member goes: every device, in id order."""
    return [PushTarget(subscription_id=doc["id"], endpoint=doc["endpoint"], p256dh=doc["keys"]["p256dh"],
                       auth=doc["keys"]["auth"])
            for doc in sorted(_of_member(store, member_id), key=lambda d: d["id"])]


def delete(*, store: BrandStore, member_id: str, subscription_id_: str) -> None:
    """Delete one of the member's devices; NotFound when it is not theirs (or not there)."""
    doc = store.find(PUSH_SUBSCRIPTIONS, subscription_id_)
    if doc is None or doc.get("memberId") != member_id:
        raise NotFound("No such push subscription")
    remove(store=store, subscription_id_=subscription_id_)


def remove(*, store: BrandStore, subscription_id_: str) -> None:
    """Delete a subscription whoever owns it (a dead one, answered 404/410); gone already is fine."""
    if store.find(PUSH_SUBSCRIPTIONS, subscription_id_) is not None:
        with contextlib.suppress(DocumentNotFound):
            store.delete(PUSH_SUBSCRIPTIONS, subscription_id_)


def erase_member(*, store: BrandStore, member_id: str) -> int:
    """Delete every subscription of an erased member; how many there were."""
    docs = _of_member(store, member_id)
    for doc in docs:
        remove(store=store, subscription_id_=doc["id"])
    return len(docs)


def export_member(*, store: BrandStore, member_id: str) -> list[dict[str, Any]]:
    """The member's subscriptions, whole (the export: endpoint and keys included, they are the member's data)."""
    docs = sorted(_of_member(store, member_id), key=lambda d: d["id"])
    return [{key: doc[key] for key in ("id", *_PROJECTION) if key in doc} for doc in docs]
