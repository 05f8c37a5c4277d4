"""Manager API: brands and their programme configuration (operator creates; brand admins edit their own)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response, status
from pydantic import BaseModel, Field

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep, ManagedBrand, ManagerPrincipal
from functions.http_api.paging import PagingQuery
from functions.http_api.problems import problem_responses
from shared.brands import service as brands
from shared.brands.models import Brand, BrandCreate, BrandRead, BrandStatus, BrandUpdate, IntegrationKeyCreated

router = APIRouter(prefix="/api/v1/manager/brands", tags=["manager: brands"])


class BrandCreated(BaseModel):
    brand: BrandRead
    integration_key: IntegrationKeyCreated = Field(alias="integrationKey")


class BrandPage(BaseModel):
    items: list[BrandRead]
    continuation: str | None = None


class BrandStatusChange(BaseModel):
    status: BrandStatus


def _read(brand: Brand) -> BrandRead:
    return BrandRead.model_validate(brand.model_dump(by_alias=True))


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=BrandCreated, response_model_by_alias=True,
    responses=problem_responses(401, 403, 409, 422), **access("operator"),
)
def create_brand(data: BrandCreate, container: ContainerDep, response: Response) -> BrandCreated:
    """Create a brand with the Data Protection Guide's defaults (platform operator only).

    The first integration key's secret is in this response and never shown again.
    """
    brand, key = brands.create(store=container.store, clock=container.clock, data=data,
                               allow_loopback=container.settings.env == "local")
    response.headers["Location"] = f"/api/v1/manager/brands/{brand.id}"
    return BrandCreated(brand=_read(brand), integrationKey=key)


@router.get("", response_model=BrandPage, responses=problem_responses(401), **access("manager"))
def list_brands(
    container: ContainerDep,
    paging: PagingQuery,
    principal: ManagerPrincipal,
) -> BrandPage:
    """Brands the caller may see: every brand for an operator, their own for a Manager user."""
    if not principal.is_operator:
        own = brands.get(store=container.store, brand_id=principal.brand_id or "")
        return BrandPage(items=[_read(own)])
    items, token = brands.get_all(store=container.store, page_size=paging.page_size, continuation=paging.continuation)
    return BrandPage(items=[_read(item) for item in items], continuation=token)


@router.get("/{brand_id}", response_model=BrandRead, responses=problem_responses(401, 404), **access("manager"))
def get_brand(brand: ManagedBrand) -> BrandRead:
    """One brand's configuration (any Manager level of that brand, or an operator)."""
    return _read(brand)


@router.patch(
    "/{brand_id}", response_model=BrandRead, responses=problem_responses(401, 403, 404, 409, 422),
    **access("manager", level="admin"),
)
def update_brand(
    brand: ManagedBrand, changes: Annotated[BrandUpdate, Body()], container: ContainerDep
) -> BrandRead:
    """Change programme settings (brand admin or operator); nested objects merge, unknown fields are refused."""
    updated = brands.update(store=container.store, clock=container.clock, brand_id=brand.id, changes=changes,
                            allow_loopback=container.settings.env == "local")
    return _read(updated)


@router.put(
    "/{brand_id}/status", response_model=BrandRead, responses=problem_responses(401, 403, 404, 422),
    **access("operator"),
)
def change_status(brand: ManagedBrand, body: BrandStatusChange, container: ContainerDep) -> BrandRead:
    """Activate, suspend or end a brand's programme (platform operator only)."""
    updated = brands.set_status(store=container.store, clock=container.clock, brand_id=brand.id, status=body.status)
    return _read(updated)


@router.post(
    "/{brand_id}/integration-keys", status_code=status.HTTP_201_CREATED, response_model=IntegrationKeyCreated,
    responses=problem_responses(401, 403, 404), **access("manager", level="admin"),
)
def add_integration_key(brand: ManagedBrand, container: ContainerDep) -> IntegrationKeyCreated:
    """Add a key for signed integration calls; its secret is shown this once (rotate, then revoke the old one)."""
    return brands.create_integration_key(store=container.store, clock=container.clock, brand_id=brand.id)


@router.delete(
    "/{brand_id}/integration-keys/{kid}", status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404), **access("manager", level="admin"),
)
def revoke_integration_key(brand: ManagedBrand, kid: str, container: ContainerDep) -> Response:
    """Revoke a key: calls signed with it are refused from now on."""
    brands.revoke_integration_key(store=container.store, clock=container.clock, brand_id=brand.id, kid=kid)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


