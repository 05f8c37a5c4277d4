"""Widget API: a visitor's photos and videos for their conversations with members."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from starlette.concurrency import run_in_threadpool

from functions.http_api.access import access, raw_body
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common import conversation_media as common
from functions.http_api.routers.common.conversation_media import DESCRIPTION, MediaId, MediaRead
from functions.http_api.routers.common.directory import open_brand
from functions.http_api.routers.widget.visitors import CurrentAccount
from shared.conversations.models import Party
from shared.errors import Forbidden
from shared.media import types

router = APIRouter(prefix="/api/v1/widget/{brand_id}/conversations/media", tags=["widget: conversations"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=MediaRead, description=DESCRIPTION,
             responses=problem_responses(403, *common.UPLOAD_STATUSES),
             **raw_body(access("visitor"), types.ACCEPTED_TYPES, max_bytes=types.MAX_VIDEO_BYTES))
async def upload_media(brand_id: str, request: Request, account: CurrentAccount, container: ContainerDep) -> MediaRead:
    """Upload a photo or a video for a message (after accepting the service terms: 403 before)."""
    await run_in_threadpool(open_brand, container, brand_id)
    if account.service_terms is None:  # the guide makes them mandatory before leaving any content
        raise Forbidden("Accept the service terms to send photos and videos")
    return await common.upload(container, brand_id, Party(kind="visitor", id=account.id), request)


@router.get("/{media_id}", response_model=MediaRead, responses=problem_responses(401, 404, 422),
            **access("visitor"))
def read_media(brand_id: str, media_id: MediaId, account: CurrentAccount, container: ContainerDep) -> MediaRead:
    """One of the visitor's uploads, with a fresh link to its file (404 for anyone else's)."""
    return common.read(container, brand_id, Party(kind="visitor", id=account.id), media_id)
