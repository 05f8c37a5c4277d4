"""A member's public profile in the widget (public): what a website visitor may see of them."""

from __future__ import annotations

from fastapi import APIRouter

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common.profiles import public_profile
from shared.directory.models import VisitorPublicProfile

router = APIRouter(tags=["widget: members"])


@router.get("/api/v1/widget/{brand_id}/members/{member_id}/profile", response_model=VisitorPublicProfile,
            responses=problem_responses(404), **access("public"))
def member_profile(brand_id: str, member_id: str, container: ContainerDep) -> VisitorPublicProfile:
    """A member's public profile as visitors see it (no position); 404 for a member hidden from the community."""
    return public_profile(container, brand_id, member_id, "visitor")  # type: ignore[return-value]
