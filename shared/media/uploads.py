"""Conversation photos and videos: validated uploads, claimed by one message, read through signed links.

`upload` checks a file (its declared type decides the size limit; its bytes must be that type),
cleans it (shared.media.images re-encodes photos, shared.media.isobmff and shared.media.webm
neutralise videos' metadata in place), records it in `conversation_media` and then writes the blob
under a fresh unguessable name in the person's own folder of the `ugc` container. The record comes
first: a crash before the blob leaves a record nobody was told of, which the hourly purge removes a
day later like any unclaimed upload; a failed blob write removes the record at once.

A message then `claim`s the upload: only its owner's message, and only one message (a conditional
write: two messages claiming one upload at once leave one winner, the other gets 409), the same
message again being an idempotent retry. An upload nobody claimed within UNCLAIMED_LIFETIME is
garbage: `purge_unclaimed` first marks it expired (conditionally, so a claim racing it wins or
loses whole), then deletes the blob, then the record.

The files are the members' and visitors' content: only links signed for MEDIA_LINK_TTL are handed
out, to whom `can_view` admits; an erased person's uploads are deleted (shared.media.eraser).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.clock import isoformat
from shared.conversations.models import Party
from shared.errors import Conflict, InvalidInput, NotFound
from shared.media import images, isobmff, types, webm
from shared.ports.blobs import CONTAINER_UGC, BlobStore
from shared.ports.store import BrandStore, DocumentNotFound, EtagMismatch, Filter
from shared.ports.store_retry import retrying

log = logging.getLogger(__name__)

CONTAINER = "conversation_media"
MEDIA_LINK_TTL = timedelta(minutes=15)
UNCLAIMED_LIFETIME = timedelta(days=1)
_ATTEMPTS = 5
_PURGE_PAGE = 100


class MediaAlreadyUsed(Conflict):
    code = "media-already-used"
    title = "This photo or video belongs to another message"


@dataclass(frozen=True)
class Cleaned:
    """A checked and cleaned file, ready to store."""

    data: bytes
    content_type: str
    kind: types.MediaKind
    width: int
    height: int
    duration_seconds: float | None


def owner_key(party: Party) -> str:
    """How a record names its owner: "<kind>:<id>" ("member:m1", "visitor:v1")."""
    return f"{party.kind}:{party.id}"


def owner_folder(brand_id: str, party: Party) -> str:
    """The person's folder of conversation files in the `ugc` container (every file of theirs is under it)."""
    people = "members" if party.kind == "member" else "visitors"
    return f"{brand_id}/{people}/{party.id}/conversation-media/"


def _not_found() -> NotFound:
    return NotFound("Media not found")


def check(data: bytes, content_type: str | None) -> Cleaned:
    """The file checked and cleaned: 415 (a type not taken), 413 (too large), 422 (not the type it says)."""
    declared = types.declared_type(content_type)
    types.check_length(declared, len(data))
    sniffed = types.sniff(data)
    if not types.matches(declared, sniffed):
        what = "image" if types.kind_of(declared) == "photo" else "video"
        raise InvalidInput(f"The file is not the {what} its type says",
                           errors=[{"field": "body", "message": f"not a valid {declared} file"}])
    assert sniffed is not None
    if types.kind_of(sniffed) == "photo":
        photo = images.reencode(data, sniffed)
        return Cleaned(photo.data, photo.content_type, "photo", photo.width, photo.height, None)
    video = (webm if sniffed == "video/webm" else isobmff).clean(data)
    return Cleaned(video.data, sniffed, "video", video.width, video.height, video.duration_seconds)


def descriptor(doc: dict[str, Any]) -> dict[str, Any]:
    """What a message embeds of an upload (no blob name, no owner)."""
    return {"mediaId": doc["id"], "kind": doc["kind"], "contentType": doc["contentType"], "width": doc["width"],
            "height": doc["height"], "size": doc["size"], "durationSeconds": doc.get("durationSeconds")}


def upload(*, store: BrandStore, blobs: BlobStore, owner: Party, data: bytes, content_type: str | None,
           now: datetime) -> dict[str, Any]:
    """Check, clean and store one file of `owner`'s; the stored record (unclaimed)."""
    cleaned = check(data, content_type)
    doc = store.create(CONTAINER, {
        "id": secrets.token_hex(16), "owner": owner_key(owner), "kind": cleaned.kind,
        "contentType": cleaned.content_type, "size": len(cleaned.data), "width": cleaned.width,
        "height": cleaned.height, "durationSeconds": cleaned.duration_seconds,
        # Its own random name: the link to the file tells nothing of the record's id.
        "blob": owner_folder(store.brand_id, owner) + secrets.token_urlsafe(24),
        "createdAt": isoformat(now), "gcDueAt": isoformat(now + UNCLAIMED_LIFETIME), "claimedBy": None,
    })
    try:
        blobs.put(CONTAINER_UGC, doc["blob"], cleaned.data, content_type=cleaned.content_type)
    except Exception:
        try:
            store.delete(CONTAINER, doc["id"])
        except DocumentNotFound:
            pass
        raise
    log.info("conversation media %s of brand %s stored for %s (%s, %d bytes)", doc["id"], store.brand_id,
             doc["owner"], cleaned.kind, doc["size"])
    return doc


def can_view(*, store: BrandStore, media_doc: dict[str, Any], party: Party) -> bool:
    """Whether `party` may see this upload: its owner, or a party of the conversation whose message holds it."""
    if media_doc.get("owner") == owner_key(party):
        return True
    claimed = media_doc.get("claimedBy") or {}
    conversation = store.find("conversations", claimed["conversationId"]) if claimed else None
    return conversation is not None and party.model_dump() in conversation["parties"]


def _live(store: BrandStore, media_id: str) -> dict[str, Any] | None:
    doc = store.find(CONTAINER, media_id)
    return None if doc is None or doc.get("expiredAt") else doc


def get(*, store: BrandStore, media_id: str, party: Party) -> dict[str, Any]:
    """An upload `party` may see; 404 for anyone else's, as for one that does not exist."""
    doc = _live(store, media_id)
    if doc is None or not can_view(store=store, media_doc=doc, party=party):
        raise _not_found()
    return doc


def signed_url(*, blobs: BlobStore, doc: dict[str, Any]) -> str:
    """A link reading the upload's file for MEDIA_LINK_TTL."""
    return blobs.signed_url(CONTAINER_UGC, doc["blob"], expires_in=MEDIA_LINK_TTL)


def url(*, blobs: BlobStore, store: BrandStore, media_id: str) -> str:
    """A fresh signed link to an upload (the caller has checked who asks: `can_view`); 404 when it is gone."""
    doc = _live(store, media_id)
    if doc is None:
        raise _not_found()
    return signed_url(blobs=blobs, doc=doc)


def claim(*, store: BrandStore, media_id: str, owner: Party, conversation_id: str, message_id: str,
          now: datetime | None = None) -> dict[str, Any]:
    """Give `owner`'s upload to one message; its descriptor. 404 for another's (or an expired one), 409 when
    another message has it; the same message again is answered the same (a retry)."""
    target = {"conversationId": conversation_id, "messageId": message_id}

    def attempt() -> dict[str, Any]:
        doc = _live(store, media_id)
        if doc is None or doc.get("owner") != owner_key(owner):
            raise _not_found()
        claimed = doc.get("claimedBy")
        if claimed == target:
            return descriptor(doc)
        if claimed is not None:
            raise MediaAlreadyUsed("This photo or video is in another message already")
        written = store.replace(CONTAINER, {**doc, "claimedBy": target, "gcDueAt": None,
                                            "claimedAt": isoformat(now) if now else None}, etag=doc["_etag"])
        return descriptor(written)

    return retrying(attempt, attempts=_ATTEMPTS)


def _delete(store: BrandStore, blobs: BlobStore, doc: dict[str, Any]) -> None:
    # The file first: a crash in between leaves a record pointing at nothing, never a file nobody knows of.
    blobs.delete(CONTAINER_UGC, doc["blob"])
    try:
        store.delete(CONTAINER, doc["id"])
    except DocumentNotFound:
        pass  # a concurrent erasure or purge got there first


def owner_uploads(*, store: BrandStore, owner: Party) -> list[dict[str, Any]]:
    """Every upload record of a person, oldest first."""
    docs = store.query_all(CONTAINER, filters=[Filter("owner", "=", owner_key(owner))], page_size=200)
    return sorted(docs, key=lambda doc: (doc["createdAt"], doc["id"]))


def delete_upload(*, store: BrandStore, blobs: BlobStore, media_id: str) -> bool:
    """Delete one upload, file and record; False when there was none."""
    doc = store.find(CONTAINER, media_id)
    if doc is None:
        return False
    _delete(store, blobs, doc)
    return True


def erase_owner(*, store: BrandStore, blobs: BlobStore, owner: Party) -> int:
    """Delete every upload of a person, files and records, and any file left in their folder; how many went."""
    erased = 0
    for doc in owner_uploads(store=store, owner=owner):
        _delete(store, blobs, doc)
        erased += 1
    for blob in blobs.list(CONTAINER_UGC, prefix=owner_folder(store.brand_id, owner)):
        erased += bool(blobs.delete(CONTAINER_UGC, blob.name))  # an upload that crashed before its record went
    if erased:
        log.info("conversation media of %s in brand %s erased: %d", owner_key(owner), store.brand_id, erased)
    return erased


def purge_unclaimed(*, store: BrandStore, blobs: BlobStore, now: datetime, dry_run: bool = False) -> dict[str, int]:
    """Delete the uploads no message claimed within UNCLAIMED_LIFETIME; counts (PII-free)."""
    due, purged, continuation = 0, 0, None
    while True:
        page = store.query(CONTAINER, filters=[Filter("gcDueAt", "<=", isoformat(now))], order_by="gcDueAt",
                           page_size=_PURGE_PAGE, continuation=continuation)
        for doc in page.items:
            due += 1
            if dry_run:
                continue
            if not doc.get("expiredAt"):
                try:  # no claim can take it from here on; a claim that got there first keeps it
                    doc = store.replace(CONTAINER, {**doc, "expiredAt": isoformat(now)}, etag=doc["_etag"])
                except (EtagMismatch, DocumentNotFound):
                    continue
            _delete(store, blobs, doc)
            purged += 1
        continuation = page.continuation
        if continuation is None:
            return {"due": due, "purged": purged}


def export_owner(*, store: BrandStore, blobs: BlobStore, owner: Party, link_ttl: timedelta) -> list[dict[str, Any]]:
    """A person's uploads as their export lists them: each one's description and a link to its file."""
    return [{**descriptor(doc), "createdAt": doc["createdAt"], "claimedBy": doc.get("claimedBy"),
             "download": blobs.signed_url(CONTAINER_UGC, doc["blob"], expires_in=link_ttl)}
            for doc in owner_uploads(store=store, owner=owner) if not doc.get("expiredAt")]
