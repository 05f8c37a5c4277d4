"""The person who left an address in a member's pop-in or form confirms it by the emailed link (App page)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from shared.brands import service as brands
from shared.crm import capture
from shared.identity.models import CamelModel

router = APIRouter(tags=["contacts: capture forms"])


class CaptureToken(CamelModel):
    token: str = Field(min_length=1, max_length=200)


class CaptureConfirmed(CamelModel):
    """The address is confirmed; which form it came through (nothing about the contact is returned)."""

    confirmed: bool = True
    form: capture.FormKind


@router.post("/api/v1/app/{brand_id}/capture/confirm", response_model=CaptureConfirmed,
             responses=problem_responses(404, 409, 410, 422), **access("public"))
def confirm_capture(brand_id: str, body: CaptureToken, container: ContainerDep) -> CaptureConfirmed:
    """Confirm your address with the emailed link's token: the member (and the brand, if you ticked it) may now see you.

    404: no such programme. 409: the contact kept changing; try again. 410: the link was used or has
    expired, or the address no longer waits for a confirmation. 422: unknown link.
    """
    brand = brands.get_public(store=container.store, brand_id=brand_id)
    form = capture.confirm(store=container.store.for_brand(brand_id), brand=brand, token=body.token,
                           events=container.events, now=container.clock.now())
    return CaptureConfirmed(form=form.value)
