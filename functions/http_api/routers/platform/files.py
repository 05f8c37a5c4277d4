"""Serves the folder blob store's signed URLs (the embedded stand-in for Blob Storage SAS links)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from functions.http_api.access import access
from popsell.bootstrap import get_container
from shared.errors import NotFound
from shared.ports.blobs import BlobStore, SignedFiles

router = APIRouter(tags=["files"])


def blob_store_dependency() -> BlobStore:
    """The worker's blob store, from the composition root."""
    return get_container().blobs


BlobStoreDep = Annotated[BlobStore, Depends(blob_store_dependency)]


@router.get("/api/v1/files/{container}/{name:path}", **access("public"))
def read_signed_file(container: str, name: str, store: BlobStoreDep, expires: str = "", sig: str = "") -> Response:
    """Return the blob a signed URL points at; a bad, expired or unknown link is a 404."""
    if not isinstance(store, SignedFiles):
        # With Blob Storage the links point at Azure itself; this route has nothing to serve.
        raise NotFound()
    data, content_type = store.open_signed(container, name, expires, sig)
    return Response(
        content=data,
        media_type=content_type,
        headers={
            "Cache-Control": "private, no-store",
            # User uploads are served from the API's origin: never sniffed, never scripted.
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
        },
    )
