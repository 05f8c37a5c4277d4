"""Profile photos: checked by their bytes, stored in the `ugc` container, shown through short-lived links.

A photo is accepted only when its first bytes are a JPEG, PNG or WebP signature matching the
declared type (a header alone proves nothing), and only up to MAX_PHOTO_BYTES. Each upload gets
a new name (`<brand>/members/<id>/photo-<uuid>`), so a link handed out earlier never shows the
next photo; the previous file is deleted once the member points at the new one. The guide
deletes the file when the member is erased: `delete_photo` is what the erasure calls.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from shared.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from shared.identity import repository
from shared.identity.lifecycle import save_member
from shared.identity.models import Member
from shared.ports.blobs import CONTAINER_UGC, BlobStore
from shared.ports.store import BrandStore

log = logging.getLogger(__name__)

MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_LINK_TTL = timedelta(minutes=15)
ALLOWED_TYPES = ("image/jpeg", "image/png", "image/webp")


class PhotoTooLarge(PayloadTooLarge):
    """A photo over MAX_PHOTO_BYTES."""


class UnsupportedPhotoType(UnsupportedMediaType):
    """A photo that is not a JPEG, PNG or WebP image."""


def sniff_type(data: bytes) -> str | None:
    """The image type the bytes really are (JPEG, PNG or WebP), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def declared_type(content_type: str | None) -> str:
    """The declared media type without parameters; UnsupportedPhotoType unless JPEG, PNG or WebP."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media not in ALLOWED_TYPES:
        raise UnsupportedPhotoType("A profile photo is a JPEG, PNG or WebP image", allowed=list(ALLOWED_TYPES))
    return media


def check_photo(data: bytes, content_type: str | None) -> str:
    """The checked media type of an upload; raises 415, 413 or 422 (bytes that are not the declared image)."""
    media = declared_type(content_type)
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoTooLarge(f"A profile photo is at most {MAX_PHOTO_BYTES // (1024 * 1024)} MB",
                            max_bytes=MAX_PHOTO_BYTES)
    if sniff_type(data) != media:
        raise InvalidInput("The file is not the image its type says",
                           errors=[{"field": "body", "message": f"not a valid {media} image"}])
    return media


def photo_url(*, blobs: BlobStore, member: Member) -> str | None:
    """A short-lived signed URL of the member's photo, or None."""
    if not member.photo_blob:
        return None
    return blobs.signed_url(CONTAINER_UGC, member.photo_blob, expires_in=PHOTO_LINK_TTL)


def replace_photo(
    *, store: BrandStore, blobs: BlobStore, member_id: str, data: bytes, content_type: str | None, now: datetime
) -> Member:
    """Store a new profile photo for a member, then delete the previous file."""
    media = check_photo(data, content_type)
    member, etag = repository.get_member(store=store, member_id=member_id)
    name = f"{store.brand_id}/members/{member.id}/photo-{uuid.uuid4().hex}"
    blobs.put(CONTAINER_UGC, name, data, content_type=media)
    try:
        save_member(store=store, member=member.model_copy(update={"photo_blob": name}), etag=etag)
    except Exception:
        # The member still points at the old photo: do not leave an orphan file behind.
        blobs.delete(CONTAINER_UGC, name)
        raise
    if member.photo_blob:
        blobs.delete(CONTAINER_UGC, member.photo_blob)
    log.info("member %s of brand %s: new profile photo", member.id, store.brand_id)
    return member.model_copy(update={"photo_blob": name})


def delete_photo(*, store: BrandStore, blobs: BlobStore, member_id: str) -> Member:
    """Remove a member's profile photo (the file and the reference); nothing to remove is fine."""
    member, etag = repository.get_member(store=store, member_id=member_id)
    if not member.photo_blob:
        return member
    updated = member.model_copy(update={"photo_blob": None})
    save_member(store=store, member=updated, etag=etag)
    blobs.delete(CONTAINER_UGC, member.photo_blob)
    log.info("member %s of brand %s: profile photo removed", member.id, store.brand_id)
    return updated


def check_size_header(content_length: str | None) -> None:
    """Refuse early an upload whose declared length is already too large."""
    if content_length and content_length.isdigit() and int(content_length) > MAX_PHOTO_BYTES:
        raise PhotoTooLarge(f"A profile photo is at most {MAX_PHOTO_BYTES // (1024 * 1024)} MB",
                            max_bytes=MAX_PHOTO_BYTES)

