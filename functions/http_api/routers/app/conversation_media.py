"""App API: a member's photos and videos for their conversations (widget and community chats)."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from functions.http_api.access import CurrentMember, access, raw_body
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common import conversation_media as common
from functions.http_api.routers.common.conversation_media import DESCRIPTION, MediaId, MediaRead
from shared.conversations.models import Party
from shared.media import types

router = APIRouter(prefix="/api/v1/app/{brand_id}/conversations/media", tags=["app: conversations"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=MediaRead, description=DESCRIPTION,
             responses=problem_responses(*common.UPLOAD_STATUSES),
             **raw_body(access("member"), types.ACCEPTED_TYPES, max_bytes=types.MAX_VIDEO_BYTES))
async def upload_media(brand_id: str, request: Request, member: CurrentMember, container: ContainerDep) -> MediaRead:
    """Upload a photo or a video for a message."""
    return await common.upload(container, brand_id, Party(kind="member", id=member.id), request)


@router.get("/{media_id}", response_model=MediaRead, responses=problem_responses(401, 404, 422),
            **access("member"))
def read_media(brand_id: str, media_id: MediaId, member: CurrentMember, container: ContainerDep) -> MediaRead:
    """One of the member's uploads, with a fresh link to its file (404 for anyone else's)."""
    return common.read(container, brand_id, Party(kind="member", id=member.id), media_id)
