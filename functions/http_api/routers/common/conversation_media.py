"""Conversation photos and videos, shared by the App's and the widget's routes: the raw upload and its reading."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from popsell.bootstrap import Container
from shared.conversations.models import Party
from shared.media import types, uploads

MediaId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
UPLOAD_STATUSES = (401, 404, 413, 415, 422)
DESCRIPTION = (
    "The raw file as the body, with its type: a photo (image/jpeg, image/png, image/webp; at most 10 MB and 50 "
    "megapixels; re-encoded without EXIF, GPS, XMP or colour profile, its orientation applied) or a video "
    "(video/mp4, video/quicktime, video/webm; at most 50 MB; its metadata boxes neutralised). The bytes must be the "
    "declared type (422). `url` reads the file until `urlExpiresAt` (15 minutes); a message uses the upload by its "
    "`mediaId` within a day, else it is deleted."
)


class MediaRead(BaseModel):
    """An uploaded photo or video, with a short-lived link to its file."""

    model_config = ConfigDict(populate_by_name=True)

    media_id: str = Field(alias="mediaId")
    kind: Literal["photo", "video"]
    content_type: str = Field(alias="contentType")
    width: int
    height: int
    size: int
    duration_seconds: float | None = Field(None, alias="durationSeconds")
    url: str
    url_expires_at: datetime = Field(alias="urlExpiresAt")


def media_read(container: Container, doc: dict) -> MediaRead:
    return MediaRead(**uploads.descriptor(doc), url=uploads.signed_url(blobs=container.blobs, doc=doc),
                     urlExpiresAt=container.clock.now() + uploads.MEDIA_LINK_TTL)


async def read_body(request: Request) -> tuple[bytes, str]:
    """The raw body and its type, refused (415, 413) before more than the declared type's limit is read."""
    content_type = request.headers.get("content-type", "")
    declared = types.declared_type(content_type)
    length = request.headers.get("content-length", "")
    if length.isdigit():
        types.check_length(declared, int(length))
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        types.check_length(declared, len(data))
    return bytes(data), content_type


async def upload(container: Container, brand_id: str, party: Party, request: Request) -> MediaRead:
    data, content_type = await read_body(request)
    doc = await run_in_threadpool(  # decoding and re-encoding are CPU work: off the event loop
        uploads.upload, store=container.store.for_brand(brand_id), blobs=container.blobs, owner=party, data=data,
        content_type=content_type, now=container.clock.now(),
    )
    return media_read(container, doc)


def read(container: Container, brand_id: str, party: Party, media_id: str) -> MediaRead:
    doc = uploads.get(store=container.store.for_brand(brand_id), media_id=media_id, party=party)
    return media_read(container, doc)
