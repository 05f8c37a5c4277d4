"""App API: the member's own profile, photo, availability and unsubscription (own data only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from functions.http_api.access import CurrentMember, access, raw_body
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from popsell.bootstrap import Container
from shared.brands import service as brands
from shared.identity import lifecycle, photos, profiles
from shared.identity.models import Availability, Member
from shared.identity.profiles import ProfileRead, ProfileUpdate

router = APIRouter(prefix="/api/v1/app/{brand_id}/me", tags=["app: profile"])


class AvailabilityChange(BaseModel):
    availability: Availability


class UnsubscribeRequest(BaseModel):
    """The member confirms they leave: an explicit `true`, so no stray call closes an account."""

    confirm: Literal[True]


class UnsubscriptionRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    status: str
    erasure_due_at: datetime | None = Field(alias="erasureDueAt")


class CancelUnsubscription(BaseModel):
    token: str = Field(min_length=1, max_length=200)


class UnsubscribeByLink(CancelUnsubscription):
    """The token of the suspension notice's link."""


class StatusRead(BaseModel):
    status: str


def _read(container: Container, member: Member) -> ProfileRead:
    return profiles.to_read(member, now=container.clock.now(), photo_url=photos.photo_url(blobs=container.blobs,
                                                                                          member=member))


@router.get("", response_model=ProfileRead, responses=problem_responses(401, 404), **access("member"))
def get_my_profile(member: CurrentMember, container: ContainerDep) -> ProfileRead:
    """The calling member's profile; `photoUrl` is a signed link valid 15 minutes."""
    return _read(container, member)


@router.patch("", response_model=ProfileRead, responses=problem_responses(401, 404, 409, 422), **access("member"))
def update_my_profile(
    brand_id: str, member: CurrentMember, changes: ProfileUpdate, container: ContainerDep
) -> ProfileRead:
    """Edit one's own profile (partial; nested objects merge). The email is not editable here."""
    updated = profiles.update(store=container.store.for_brand(brand_id), member_id=member.id, changes=changes,
                              now=container.clock.now())
    return _read(container, updated)


@router.put(
    "/photo", response_model=ProfileRead, responses=problem_responses(401, 404, 413, 415, 422),
    **raw_body(access("member"), photos.ALLOWED_TYPES),
)
async def upload_my_photo(brand_id: str, request: Request, member: CurrentMember, container: ContainerDep) -> Any:
    """Upload a profile photo as the raw body (image/jpeg, image/png or image/webp, at most 5 MB)."""
    photos.declared_type(request.headers.get("content-type"))
    photos.check_size_header(request.headers.get("content-length"))
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > photos.MAX_PHOTO_BYTES:
            raise photos.PhotoTooLarge("A profile photo is at most 5 MB", max_bytes=photos.MAX_PHOTO_BYTES)
    updated = await run_in_threadpool(
        photos.replace_photo, store=container.store.for_brand(brand_id), blobs=container.blobs, member_id=member.id,
        data=bytes(data), content_type=request.headers.get("content-type"), now=container.clock.now(),
    )
    return _read(container, updated)


@router.delete(
    "/photo", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(401, 404), **access("member")
)
def delete_my_photo(brand_id: str, member: CurrentMember, container: ContainerDep) -> Response:
    """Remove one's profile photo (the file is deleted); no photo is fine."""
    photos.delete_photo(store=container.store.for_brand(brand_id), blobs=container.blobs, member_id=member.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    "/availability", response_model=ProfileRead, responses=problem_responses(401, 404, 422), **access("member")
)
def set_my_availability(
    brand_id: str, body: AvailabilityChange, member: CurrentMember, container: ContainerDep
) -> ProfileRead:
    """Set online / away / offline; online and away last 15 minutes unless renewed, then count as offline."""
    updated = profiles.set_availability(store=container.store.for_brand(brand_id), member_id=member.id,
                                        availability=body.availability, now=container.clock.now())
    return _read(container, updated)


@router.post(
    "/unsubscribe", status_code=status.HTTP_202_ACCEPTED, response_model=UnsubscriptionRead,
    responses=problem_responses(401, 404, 409, 422), **access("member"),
)
def unsubscribe(
    brand_id: str, body: UnsubscribeRequest, member: CurrentMember, container: ContainerDep
) -> UnsubscriptionRead:
    """Leave the brand's programme: access closes now, data is erased after the brand's delay (7 days by default).

    An email carries a single-use link to take it back before then.
    """
    brand = brands.get(store=container.store, brand_id=brand_id)
    left = lifecycle.unsubscribe_and_notify(
        events=container.events, store=container.store.for_brand(brand_id), bus=container.bus,
        settings=container.settings, brand=brand,
        member_id=member.id, now=container.clock.now(),
    )
    return UnsubscriptionRead(status=left.status, erasureDueAt=left.erasure_due_at)


@router.post(
    "/unsubscribe/cancel", response_model=StatusRead, responses=problem_responses(404, 409, 410, 422),
    **access("public"),
)
def cancel_unsubscription(brand_id: str, body: CancelUnsubscription, container: ContainerDep) -> StatusRead:
    """Take an unsubscription back with the emailed link's token (works once, until the erasure)."""
    brand = brands.get(store=container.store, brand_id=brand_id)
    member = lifecycle.cancel_unsubscription_by_link(
        events=container.events, store=container.store.for_brand(brand_id), brand=brand, token=body.token,
        now=container.clock.now(),
    )
    return StatusRead(status=member.status)


@router.post(
    "/unsubscribe/by-link", status_code=status.HTTP_202_ACCEPTED, response_model=UnsubscriptionRead,
    responses=problem_responses(404, 409, 410, 422), **access("public"),
)
def unsubscribe_by_link(brand_id: str, body: UnsubscribeByLink, container: ContainerDep) -> UnsubscriptionRead:
    """Leave a suspended programme with the notice's link (sign-ins are refused while it is suspended).

    As an unsubscription from the profile: data erased after the brand's delay, an email with a link to take it back.
    """
    brand = brands.get(store=container.store, brand_id=brand_id)
    left = lifecycle.unsubscribe_by_link(
        events=container.events, store=container.store.for_brand(brand_id), bus=container.bus,
        settings=container.settings, brand=brand,
        token=body.token, now=container.clock.now(),
    )
    return UnsubscriptionRead(status=left.status, erasureDueAt=left.erasure_due_at)
