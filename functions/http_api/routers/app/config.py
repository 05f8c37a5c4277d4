"""The App's public configuration of a programme: what a signup form must ask, how members sign in."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from shared.brands import service as brands
from shared.brands.models import REQUIRED_NAMES, DisplayNamePolicy, SocialProvider
from shared.identity.models import CamelModel
from shared.notifications import vapid

router = APIRouter(prefix="/api/v1/app/{brand_id}", tags=["App: authentication"])


class SignupForm(CamelModel):
    """What the signup form of this programme must carry besides email, password and the terms."""

    required_names: tuple[str, ...] = Field(description="Names the display-name policy needs (422 if missing)")
    whitelist_enabled: bool = Field(description="Only listed emails or customer IDs may sign up")
    sso_exclusive: bool = Field(description="Members sign in through the brand's own platform only")


class AppConfig(CamelModel):
    """A programme as the App shows it before anyone signs in: no secret, no personal data."""

    brand_id: str
    name: str
    default_locale: str
    display_name_policy: DisplayNamePolicy
    privacy_policy_url: str
    social_providers: list[SocialProvider]
    signup: SignupForm
    social_commerce: bool = Field(description="Product pages are the App's (Social Commerce scenario); otherwise "
                                              "a product's page is on the brand's site")
    push_public_key: str | None = Field(None, description="The VAPID public key a device subscribes to pushes with "
                                                          "(the Push API's applicationServerKey); null: no pushes")


@router.get("/config", response_model=AppConfig, responses=problem_responses(404), **access("public"))
def app_config(brand_id: str, container: ContainerDep) -> AppConfig:
    """The programme's public App configuration (404 for an unknown or ended programme)."""
    brand = brands.get_public(store=container.store, brand_id=brand_id)
    return AppConfig(
        brand_id=brand.id, name=brand.name, default_locale=brand.default_locale,
        display_name_policy=brand.display_name_policy,
        privacy_policy_url=brand.privacy_policy_url or container.settings.privacy_policy_url,
        social_providers=sorted(brand.social_login),
        signup=SignupForm(required_names=REQUIRED_NAMES[brand.display_name_policy],
                          whitelist_enabled=brand.registration.whitelist_enabled,
                          sso_exclusive=brand.registration.sso_exclusive),
        social_commerce=brand.social_commerce,
        push_public_key=vapid.public_key(container.settings.vapid_private_key),
    )
