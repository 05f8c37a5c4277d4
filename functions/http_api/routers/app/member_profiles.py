"""Members in the App: another member's public profile, and the calling member's own product lists."""

from __future__ import annotations

from fastapi import APIRouter

from functions.http_api.access import CurrentMember, access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common.profiles import public_profile
from shared.catalog import member_products
from shared.catalog.member_products import MemberProductLists
from shared.directory.models import MemberPublicProfile

router = APIRouter(tags=["app: members"])


@router.get("/api/v1/app/{brand_id}/members/{member_id}/profile", response_model=MemberPublicProfile,
            responses=problem_responses(401, 404), **access("member"))
def member_profile(brand_id: str, member_id: str, container: ContainerDep) -> MemberPublicProfile:
    """A member's public profile as members see it; 404 for a member hidden from the community or not active."""
    return public_profile(container, brand_id, member_id, "member")  # type: ignore[return-value]


@router.get("/api/v1/app/{brand_id}/me/products", response_model=MemberProductLists,
            responses=problem_responses(401, 404), **access("member"))
def my_products(brand_id: str, member: CurrentMember, container: ContainerDep) -> MemberProductLists:
    """The calling member's owned and recommended products, as they ordered them."""
    return member_products.get(store=container.store.for_brand(brand_id), member_id=member.id)


@router.put("/api/v1/app/{brand_id}/me/products", response_model=MemberProductLists,
            responses=problem_responses(401, 404, 422), **access("member"))
def put_my_products(brand_id: str, data: MemberProductLists, member: CurrentMember,
                    container: ContainerDep) -> MemberProductLists:
    """Replace both lists (at most 50 products each, once per list); 422 names each product the catalog lacks."""
    return member_products.put(store=container.store.for_brand(brand_id), member_id=member.id, data=data,
                               now=container.clock.now())
