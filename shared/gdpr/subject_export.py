"""What an access or portability export holds: everything stored about one person, nothing about anyone else.

One JSON document (GDPR articles 15 and 20: complete, machine-readable) built from every
container that refers to the person: the member or external-user document, the profile photo
(embedded, so the export needs no other link), consents with their dates, activity records
(hashed IP and user agent, as stored), sessions, the member's share links and commission
entries, and the person's own GDPR requests. The member's contacts are other people's data: only
their number is given (nor are the orders behind commissions: they are the customers'). The password hash is
never exported (a credential, not information about the person).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from shared.catalog import member_products
from shared.clock import isoformat
from shared.conversations import conversations
from shared.conversations.models import Party
from shared.identity import repository
from shared.identity.models import ExternalUser, Member
from shared.notifications import subscriptions as push_subscriptions
from shared.ports.blobs import CONTAINER_EXPORTS, CONTAINER_UGC, BlobNotFound, BlobStore
from shared.ports.store import BrandStore, Filter

FORMAT = "popsell.personal-data-export/1"
_ACTIVITY = "activity_log"
_SESSIONS = "auth_sessions"
_CONTACTS = "contacts"
_LINKS = "links"
_COMMISSIONS = "commissions"
_REQUESTS = "gdpr_requests"
# Store bookkeeping and derived projections: not information about the person.
_INTERNAL = ("_etag", "_ts", "brandId", "directory", "retention", "passwordHash")


def export_blob_name(brand_id: str, request_id: str) -> str:
    """Where a request's export is written in the `exports` container."""
    return f"{brand_id}/{request_id}.json"


def _clean(doc: dict[str, Any], drop: tuple[str, ...] = _INTERNAL) -> dict[str, Any]:
    return {key: value for key, value in doc.items() if key not in drop and not key.startswith("_")}


def _activity(store: BrandStore, subject_id: str) -> list[dict[str, Any]]:
    docs = store.query_all(_ACTIVITY, filters=[Filter("subject", "=", subject_id)], order_by="at",
                           pk=f"{store.brand_id}|{subject_id}", page_size=500)
    return [_clean(doc, ("pk", "ttl", "brandId", "subject")) for doc in docs]


def _sessions(store: BrandStore, subject_id: str) -> dict[str, Any]:
    docs = store.query_all(_SESSIONS, filters=[Filter("subject", "=", subject_id)], page_size=500)
    families = [doc for doc in docs if doc["id"].startswith("family:")]
    return {
        "count": len(families),
        "open": sum(1 for doc in families if not doc.get("revokedAt")),
        "startedAt": sorted(doc["createdAt"] for doc in families if doc.get("createdAt")),
    }


def gdpr_requests(*, store: BrandStore, subject_hash: str) -> list[dict[str, Any]]:
    """The person's own GDPR requests as an export lists them (kinds, states, dates: no content)."""
    docs = store.query_all(_REQUESTS, filters=[Filter("subjectHash", "=", subject_hash)], order_by="createdAt",
                           page_size=200)
    return [{key: doc.get(key) for key in ("id", "kind", "state", "createdAt", "updatedAt", "channel")}
            for doc in docs]


def _photo(blobs: BlobStore, name: str | None) -> dict[str, Any] | None:
    if not name:
        return None
    try:
        info = blobs.info(CONTAINER_UGC, name)
        data = blobs.get(CONTAINER_UGC, name)
    except BlobNotFound:
        return None
    return {"contentType": info.content_type, "base64": base64.b64encode(data).decode()}


def member_export(
    *, store: BrandStore, blobs: BlobStore, member_id: str, subject_hash: str, now: datetime
) -> dict[str, Any]:
    """Everything stored about one member of this brand, as a JSON-ready dict."""
    member, _ = repository.get_member(store=store, member_id=member_id)
    doc = repository.to_document(member)
    own = [Filter("memberId", "=", member_id)]
    contacts = store.query_all(_CONTACTS, filters=own, fields=("memberId",), page_size=500)
    return {
        "format": FORMAT,
        "generatedAt": isoformat(now),
        "brandId": store.brand_id,
        "subject": {"kind": "member", "id": member.id},
        "member": _clean(doc),
        "passwordSet": member.password_hash is not None,
        "consents": _member_consents(member),
        "profilePhoto": _photo(blobs, member.photo_blob),
        "activity": _activity(store, member_id),
        "sessions": _sessions(store, member_id),
        "contactsCount": len(contacts),
        "shareLinks": [_clean(link) for link in store.query_all(_LINKS, filters=own, page_size=500)],
        "commissions": [_clean(entry) for entry in store.query_all(_COMMISSIONS, filters=own, page_size=500)],
        "pushSubscriptions": push_subscriptions.export_member(store=store, member_id=member_id),
        "products": member_products.get(store=store, member_id=member_id).model_dump(mode="json", by_alias=True),
        # Their own messages only (what others wrote to them is the others' content).
        "messages": conversations.export_party(store=store, party=Party(kind="member", id=member_id)),
        "gdprRequests": gdpr_requests(store=store, subject_hash=subject_hash),
    }


def _member_consents(member: Member) -> dict[str, Any]:
    terms = member.popsell_terms
    return {
        "popsellTerms": terms.model_dump(mode="json", by_alias=True) if terms else None,
        "communication": member.communication.model_dump(mode="json", by_alias=True),
        "communityVisibility": member.visibility.model_dump(mode="json", by_alias=True),
        "pushNotifications": member.notifications.model_dump(mode="json", by_alias=True),
    }


def visitor_export(*, store: BrandStore, visitor_id: str, subject_hash: str, now: datetime) -> dict[str, Any]:
    """Everything stored about one external user of this brand, as a JSON-ready dict."""
    visitor, _ = repository.get_visitor(store=store, visitor_id=visitor_id)
    return {
        "format": FORMAT,
        "generatedAt": isoformat(now),
        "brandId": store.brand_id,
        "subject": {"kind": "visitor", "id": visitor.id},
        "visitor": _clean(repository.to_document(visitor)),
        "consents": _visitor_consents(visitor),
        "activity": _activity(store, visitor_id),
        "sessions": _sessions(store, visitor_id),
        "messages": conversations.export_party(store=store, party=Party(kind="visitor", id=visitor_id)),
        "gdprRequests": gdpr_requests(store=store, subject_hash=subject_hash),
    }


def _visitor_consents(visitor: ExternalUser) -> dict[str, Any]:
    service = visitor.service_terms
    return {
        "widgetPolicy": visitor.widget_policy.model_dump(mode="json", by_alias=True),
        "serviceTerms": service.model_dump(mode="json", by_alias=True) if service else None,
    }


def write_export(*, blobs: BlobStore, brand_id: str, request_id: str, content: dict[str, Any]) -> str:
    """Write an export to the `exports` container; returns the blob name (purged after 48 hours)."""
    name = export_blob_name(brand_id, request_id)
    data = json.dumps(content, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
    blobs.put(CONTAINER_EXPORTS, name, data, content_type="application/json")
    return name
