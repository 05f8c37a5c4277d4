"""Manager API: a brand's members — read (viewer), edit and block (editor), lifecycle (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep, ManagedBrand
from functions.http_api.paging import PagingQuery
from functions.http_api.problems import problem_responses
from popsell.bootstrap import Container
from shared.gdpr import restriction
from shared.identity import lifecycle, photos, profiles, repository
from shared.identity.models import Member, MemberStatus
from shared.identity.profiles import ManagerMemberRead, ManagerMemberUpdate

router = APIRouter(prefix="/api/v1/manager/brands/{brand_id}/members", tags=["manager: members"])


class MemberPage(BaseModel):
    items: list[ManagerMemberRead]
    continuation: str | None = None


def _read(container: Container, member: Member) -> ManagerMemberRead:
    url = photos.photo_url(blobs=container.blobs, member=member)
    return profiles.to_manager_read(member, now=container.clock.now(), photo_url=url)


@router.get("", response_model=MemberPage, responses=problem_responses(401, 403, 404, 422), **access("manager"))
def list_members(
    brand: ManagedBrand,
    container: ContainerDep,
    paging: PagingQuery,
    member_status: Annotated[MemberStatus | None, Query(alias="status")] = None,
    role: Annotated[int | None, Query(ge=0, le=6)] = None,
) -> MemberPage:
    """The brand's members, filtered by status and role, one page at a time (restricted members are left out)."""
    page = container.store.for_brand(brand.id).query(
        repository.MEMBERS, filters=profiles.query_filters(status=member_status, role=role), page_size=paging.page_size,
        continuation=paging.continuation,
    )
    members = [repository.from_document(Member, doc)[0] for doc in page.items]
    members = [member for member in members if member.restriction is None]  # GDPR article 18: kept, not shown
    return MemberPage(items=[_read(container, member) for member in members], continuation=page.continuation)


@router.get(
    "/{member_id}", response_model=ManagerMemberRead, responses=problem_responses(401, 403, 404), **access("manager")
)
def get_member(brand: ManagedBrand, member_id: str, container: ContainerDep) -> ManagerMemberRead:
    """One member of the brand, with its lifecycle (status, erasure date); a restricted member answers 404."""
    return _read(container, restriction.member_for_brand(store=container.store.for_brand(brand.id),
                                                         member_id=member_id))


@router.patch(
    "/{member_id}", response_model=ManagerMemberRead, responses=problem_responses(401, 403, 404, 409, 422),
    **access("manager", level="editor"),
)
def update_member(
    brand: ManagedBrand, member_id: str, changes: ManagerMemberUpdate, container: ContainerDep
) -> ManagerMemberRead:
    """Edit a member's profile fields or role (0-6); the email is not editable here."""
    restriction.member_for_brand(store=container.store.for_brand(brand.id), member_id=member_id)
    updated = profiles.update(store=container.store.for_brand(brand.id), member_id=member_id, changes=changes,
                              now=container.clock.now())
    return _read(container, updated)


# Registered in this order on purpose: each action is followed by its undo.
@router.post(
    "/{member_id}/block", response_model=ManagerMemberRead, responses=problem_responses(401, 403, 404, 409),
    **access("manager", level="editor"),
)
def block_member(brand: ManagedBrand, member_id: str, container: ContainerDep) -> ManagerMemberRead:
    """Block an active member: no access until unblocked (blocking twice changes nothing)."""
    restriction.member_for_brand(store=container.store.for_brand(brand.id), member_id=member_id)
    member = lifecycle.block(events=container.events, store=container.store.for_brand(brand.id), member_id=member_id,
                             now=container.clock.now())
    return _read(container, member)


@router.post(
    "/{member_id}/unblock", response_model=ManagerMemberRead, responses=problem_responses(401, 403, 404, 409),
    **access("manager", level="editor"),
)
def unblock_member(brand: ManagedBrand, member_id: str, container: ContainerDep) -> ManagerMemberRead:
    """Give a blocked member their access back."""
    restriction.member_for_brand(store=container.store.for_brand(brand.id), member_id=member_id)
    member = lifecycle.unblock(events=container.events, store=container.store.for_brand(brand.id), member_id=member_id,
                               now=container.clock.now())
    return _read(container, member)


@router.post(
    "/{member_id}/end-contract", response_model=ManagerMemberRead, responses=problem_responses(401, 403, 404, 409),
    **access("manager", level="admin"),
)
def end_member_contract(brand: ManagedBrand, member_id: str, container: ContainerDep) -> ManagerMemberRead:
    """End a member's contract: access closes now, erasure after the brand's delay (idempotent)."""
    restriction.member_for_brand(store=container.store.for_brand(brand.id), member_id=member_id)
    member = lifecycle.end_contract(events=container.events, store=container.store.for_brand(brand.id), brand=brand,
                                    member_id=member_id, now=container.clock.now(), source="manager")
    return _read(container, member)


@router.post(
    "/{member_id}/reactivate", response_model=ManagerMemberRead, responses=problem_responses(401, 403, 404, 409),
    **access("manager", level="admin"),
)
def reactivate_member(brand: ManagedBrand, member_id: str, container: ContainerDep) -> ManagerMemberRead:
    """Undo an end of contract before the erasure: back to active (409 once the delay has passed)."""
    restriction.member_for_brand(store=container.store.for_brand(brand.id), member_id=member_id)
    member = lifecycle.reactivate(events=container.events, store=container.store.for_brand(brand.id), brand=brand,
                                  member_id=member_id, now=container.clock.now())
    return _read(container, member)


@router.post(
    "/{member_id}/cancel-unsubscription", response_model=ManagerMemberRead,
    responses=problem_responses(401, 403, 404, 409), **access("manager", level="admin"),
)
def cancel_member_unsubscription(brand: ManagedBrand, member_id: str, container: ContainerDep) -> ManagerMemberRead:
    """Take a member's unsubscription back before the erasure (409 once the delay has passed)."""
    restriction.member_for_brand(store=container.store.for_brand(brand.id), member_id=member_id)
    member = lifecycle.cancel_unsubscription(events=container.events, store=container.store.for_brand(brand.id),
                                             brand=brand, member_id=member_id, now=container.clock.now())
    return _read(container, member)
