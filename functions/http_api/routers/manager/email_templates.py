"""Brand email templates in the Manager: written, published and archived (members list them in the App)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from pydantic import BaseModel

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep, ManagedBrand, ManagerPrincipal
from functions.http_api.paging import PagingQuery
from functions.http_api.problems import problem_responses
from shared.crm import brand_templates as templates
from shared.crm.brand_templates import Template, TemplateCreate, TemplateStatus, TemplateUpdate

router = APIRouter()

MANAGER = "/api/v1/manager/brands/{brand_id}/email-templates"
TAGS = ["manager: email templates"]


class TemplatePage(BaseModel):
    items: list[Template]
    continuation: str | None = None


def _with_etag(response: Response, template: Template) -> Template:
    response.headers["ETag"] = templates.etag(template)
    return template


@router.post(MANAGER, status_code=status.HTTP_201_CREATED, response_model=Template, response_model_by_alias=True,
             tags=TAGS, responses=problem_responses(401, 403, 404, 422), **access("manager", level="editor"))
def create_template(brand: ManagedBrand, body: TemplateCreate, principal: ManagerPrincipal, container: ContainerDep,
                    response: Response) -> Template:
    """Write a brand email template (draft, or published to offer it to members at once)."""
    template = templates.create(store=container.store.for_brand(brand.id), brand=brand, data=body,
                                author_id=principal.subject, now=container.clock.now())
    response.headers["Location"] = f"/api/v1/manager/brands/{brand.id}/email-templates/{template.id}"
    return _with_etag(response, template)


@router.get(MANAGER, response_model=TemplatePage, response_model_by_alias=True, tags=TAGS,
            responses=problem_responses(401, 403, 404, 422), **access("manager", level="viewer"))
def list_templates(brand: ManagedBrand, container: ContainerDep, paging: PagingQuery,
                   status_filter: Annotated[TemplateStatus | None, Query(alias="status")] = None) -> TemplatePage:
    """The brand's email templates, newest first, optionally of one status."""
    items, token = templates.list_page(store=container.store.for_brand(brand.id), status=status_filter,
                                       page_size=paging.page_size, continuation=paging.continuation)
    return TemplatePage(items=items, continuation=token)


@router.get(MANAGER + "/{template_id}", response_model=Template, response_model_by_alias=True, tags=TAGS,
            responses=problem_responses(401, 403, 404), **access("manager", level="viewer"))
def get_template(brand: ManagedBrand, template_id: str, container: ContainerDep, response: Response) -> Template:
    """One email template; its ETag (the version) is what an update sends back in If-Match."""
    template, _ = templates.get(store=container.store.for_brand(brand.id), template_id=template_id)
    return _with_etag(response, template)


@router.patch(MANAGER + "/{template_id}", response_model=Template, response_model_by_alias=True, tags=TAGS,
              responses=problem_responses(401, 403, 404, 409, 412, 422, 428), **access("manager", level="editor"))
def update_template(brand: ManagedBrand, template_id: str, body: TemplateUpdate, principal: ManagerPrincipal,
                    container: ContainerDep, response: Response,
                    if_match: Annotated[str | None, Header(alias="If-Match")] = None) -> Template:
    """Change a template made from a known version (If-Match or `version`): a stale one answers 412."""
    template = templates.update(store=container.store.for_brand(brand.id), brand=brand, template_id=template_id,
                                changes=body, if_match=templates.parse_if_match(if_match),
                                author_id=principal.subject, now=container.clock.now())
    return _with_etag(response, template)


@router.post(MANAGER + "/{template_id}/archive", response_model=Template, response_model_by_alias=True, tags=TAGS,
             responses=problem_responses(401, 403, 404, 409), **access("manager", level="editor"))
def archive_template(brand: ManagedBrand, template_id: str, principal: ManagerPrincipal, container: ContainerDep,
                     response: Response) -> Template:
    """Archive a template for good: no longer offered or sent; campaigns already sent keep their counts."""
    template = templates.archive(store=container.store.for_brand(brand.id), brand_id=brand.id, template_id=template_id,
                                 author_id=principal.subject, now=container.clock.now())
    return _with_etag(response, template)
