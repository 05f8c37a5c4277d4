"""A member's blog pop-in or form leaves a person's address (widget); the person confirms it by link (App page)."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from functions.http_api.access import access
from functions.http_api.deps import ClientIp, ContainerDep
from functions.http_api.problems import problem_responses
from shared.brands import service as brands
from shared.crm import capture
from shared.identity.auth import auth_context
from shared.identity.models import CamelModel

router = APIRouter(tags=["contacts: capture forms"])


class CaptureReceived(BaseModel):
    """The one answer to every accepted submission: nothing says whether the address was known."""

    received: bool = True


class CaptureToken(CamelModel):
    token: str = Field(min_length=1, max_length=200)


class CaptureConfirmed(CamelModel):
    """The address is confirmed; which form it came through (nothing about the contact is returned)."""

    confirmed: bool = True
    form: capture.FormKind


@router.post("/api/v1/widget/{brand_id}/members/{member_id}/capture", status_code=status.HTTP_202_ACCEPTED,
             response_model=CaptureReceived, responses=problem_responses(403, 404, 422, 429, 503), **access("public"))
def submit_capture(brand_id: str, member_id: str, form: capture.CaptureSubmission, request: Request, ip: ClientIp,
                   container: ContainerDep) -> CaptureReceived:
    """Leave your address for this member through their pop-in or form: a confirmation email follows.

    The same 202 whether the address is new, already known or refused; at most one confirmation email
    a day per address and member. 403: the programme is not open, or the page's origin is not one of
    the brand's widget origins. 404: no such member, or one hidden from the community. 422: a field,
    or a privacy policy that is not the brand's. 429: too many submissions from this address or for
    this email (Retry-After). 503: the submission could not be counted; try again.
    """
    context = auth_context(container, brand_id, ip=ip)
    capture.submit(container=container, brand=context.brand, member_id=member_id, form=form,
                   ip_hash=context.ip_hash, user_agent=request.headers.get("user-agent"), now=container.clock.now())
    return CaptureReceived()


@router.post("/api/v1/app/{brand_id}/capture/confirm", response_model=CaptureConfirmed,
             responses=problem_responses(404, 409, 410, 422), **access("public"))
def confirm_capture(brand_id: str, body: CaptureToken, container: ContainerDep) -> CaptureConfirmed:
    """Confirm your address with the emailed link's token: the member (and the brand, if you ticked it) may now see you.

    404: no such programme. 409: the contact kept changing; try again. 410: the link was used or has
    expired, or the address no longer waits for a confirmation. 422: unknown link.
    """
    brand = brands.get_public(store=container.store, brand_id=brand_id)
    form = capture.confirm(store=container.store.for_brand(brand_id), brand=brand, token=body.token,
                           now=container.clock.now())
    return CaptureConfirmed(form=form.value)
