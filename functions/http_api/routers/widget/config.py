"""Widget API (visitors on brand sites): public configuration; CORS is checked per brand by the app."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from shared.brands import service as brands
from shared.brands.models import DisplayNamePolicy

router = APIRouter(prefix="/api/v1/widget/{brand_id}", tags=["widget"])


class WidgetConfig(BaseModel):
    """What a widget needs to start: no secret, no personal data."""

    brand_id: str = Field(alias="brandId")
    name: str
    default_locale: str = Field(alias="defaultLocale")
    display_name_policy: DisplayNamePolicy = Field(alias="displayNamePolicy")
    privacy_policy_url: str = Field(alias="privacyPolicyUrl")


@router.get("/config", response_model=WidgetConfig, responses=problem_responses(404), **access("public"))
def widget_config(brand_id: str, container: ContainerDep) -> WidgetConfig:
    """The brand's public widget configuration (404 for an unknown or ended programme)."""
    brand = brands.get_public(store=container.store, brand_id=brand_id)
    return WidgetConfig(
        brandId=brand.id,
        name=brand.name,
        defaultLocale=brand.default_locale,
        displayNamePolicy=brand.display_name_policy,
        privacyPolicyUrl=brands.privacy_policy_url(brand, container.settings),
    )
