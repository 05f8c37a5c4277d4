"""A person's conversation photos and videos when they are erased: deleted, files and records.

The guide deletes all personal data a member generated when their account goes, and a visitor's
uploads are theirs too: every erasure of a member or an external user runs this eraser
(shared.gdpr.erasure's content erasers, registered by popsell.registry). Files left in the person's
folder without a record (an upload that stopped between its record and its file) go as well.
"""

from __future__ import annotations

from shared.conversations.models import Party
from shared.gdpr.erasure import ContentEraser, ContentItem, ErasureContext
from shared.media import uploads
from shared.ports.blobs import CONTAINER_UGC, BlobStore

_FILE = "file:"


def _owner(ctx: ErasureContext) -> Party:
    return Party(kind=ctx.subject_type, id=ctx.subject_id)


def _blobs(ctx: ErasureContext) -> BlobStore:
    if ctx.blobs is None:
        raise RuntimeError("erasing conversation media needs the blob store")
    return ctx.blobs


def _find(ctx: ErasureContext) -> list[ContentItem]:
    owner = _owner(ctx)
    docs = uploads.owner_uploads(store=ctx.store, owner=owner)
    named = {doc["blob"] for doc in docs}
    files = _blobs(ctx).list(CONTAINER_UGC, prefix=uploads.owner_folder(ctx.store.brand_id, owner))
    return ([ContentItem(id=doc["id"]) for doc in docs]
            + [ContentItem(id=_FILE + blob.name) for blob in files if blob.name not in named])


def _erase(ctx: ErasureContext, item: ContentItem) -> None:
    if item.id.startswith(_FILE):
        _blobs(ctx).delete(CONTAINER_UGC, item.id.removeprefix(_FILE))
    else:
        uploads.delete_upload(store=ctx.store, blobs=_blobs(ctx), media_id=item.id)


ERASER = ContentEraser(content_type="conversation_media", find=_find, erase=_erase,
                       subject_types=("member", "visitor"))
