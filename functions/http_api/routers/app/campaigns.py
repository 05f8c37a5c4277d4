"""App API: a member emails a publication or brand template to their opted-in contacts; one-click unsubscribe."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from functions.http_api.access import CurrentMember, access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from shared.brands import service as brands
from shared.crm import campaigns, unsubscribe
from shared.identity.models import CamelModel

router = APIRouter(prefix="/api/v1/app/{brand_id}", tags=["app: campaigns"])


class UnsubscribeChoice(CamelModel):
    scope: Literal["member", "brand"]
    method: Literal["POST"] = "POST"
    url: str
    description: str


class UnsubscribeChoices(CamelModel):
    """The two ways to unsubscribe this link offers."""

    choices: list[UnsubscribeChoice]


class Unsubscribed(CamelModel):
    scope: Literal["member", "brand"]


@router.post("/campaigns", response_model=campaigns.CampaignResult, **access("member"),
             responses=problem_responses(401, 404, 409, 422, 429))
def send_campaign(brand_id: str, body: campaigns.CampaignCreate, member: CurrentMember,
                  container: ContainerDep) -> campaigns.CampaignResult:
    """Email a publication (title/text/link, or a published brand `templateId`) to your opted-in contacts."""
    brand = brands.get(store=container.store, brand_id=brand_id)
    return campaigns.send(container=container, brand=brand, member=member, data=body, now=container.clock.now())


@router.get("/unsubscribe/{token}", response_model=UnsubscribeChoices, **access("public"),
            responses=problem_responses(404))
def unsubscribe_choices(brand_id: str, token: str, container: ContainerDep) -> UnsubscribeChoices:
    """The choices of an emailed unsubscribe link: this member only, or all members of the brand."""
    brands.get(store=container.store, brand_id=brand_id)
    unsubscribe.read_token(container.settings, brand_id, token)
    url = unsubscribe.link(container.settings, brand_id, token)
    return UnsubscribeChoices(choices=[
        UnsubscribeChoice(scope="member", url=url, description="Stop emails from this member"),
        UnsubscribeChoice(scope="brand", url=f"{url}?scope=brand",
                          description="Stop emails from all members of this brand"),
    ])


@router.post("/unsubscribe/{token}", response_model=Unsubscribed, **access("public"),
             responses=problem_responses(404, 422))
def unsubscribe_now(brand_id: str, token: str, container: ContainerDep,
                    scope: Literal["member", "brand"] = "member") -> Unsubscribed:
    """Unsubscribe with an emailed link (RFC 8058 one-click: this member; `scope=brand`: every member)."""
    brand = brands.get(store=container.store, brand_id=brand_id)
    applied = unsubscribe.unsubscribe(store=container.store.for_brand(brand_id), journal=container.journal(brand_id),
                                      events=container.events,
                                      brand=brand,
                                      settings=container.settings, token=token, scope=scope,
                                      now=container.clock.now())
    return Unsubscribed(scope=applied)
