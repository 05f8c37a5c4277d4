"""Brand email templates in the App: members list the published ones to send as a campaign."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from functions.http_api.access import CurrentMember, access
from functions.http_api.deps import ContainerDep
from functions.http_api.paging import PagingQuery
from functions.http_api.problems import problem_responses
from shared.crm import brand_templates as templates
from shared.crm.brand_templates import MemberTemplate

router = APIRouter()


class MemberTemplatePage(BaseModel):
    items: list[MemberTemplate]
    continuation: str | None = None


@router.get("/api/v1/app/{brand_id}/email-templates", response_model=MemberTemplatePage,
            response_model_by_alias=True, tags=["app: campaigns"], responses=problem_responses(401, 404, 422),
            **access("member"))
def list_member_templates(brand_id: str, member: CurrentMember, container: ContainerDep,
                          paging: PagingQuery) -> MemberTemplatePage:
    """The brand's published email templates you may send as a campaign (`templateId`)."""
    items, token = templates.list_published(store=container.store.for_brand(brand_id), page_size=paging.page_size,
                                            continuation=paging.continuation)
    return MemberTemplatePage(items=items, continuation=token)
