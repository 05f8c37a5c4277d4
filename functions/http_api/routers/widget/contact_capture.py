"""A member's blog pop-in or form leaves a person's address (widget); the App's page confirms it by link."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from pydantic import BaseModel

from functions.http_api.access import access
from functions.http_api.deps import ClientIp, ContainerDep
from functions.http_api.problems import problem_responses
from shared.crm import capture
from shared.identity.auth import auth_context

router = APIRouter(tags=["contacts: capture forms"])


class CaptureReceived(BaseModel):
    """The one answer to every accepted submission: nothing says whether the address was known."""

    received: bool = True


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
    context = auth_context(container=container, brand_id=brand_id, ip=ip)
    capture.submit(container=container, brand=context.brand, member_id=member_id, form=form,
                   ip_hash=context.ip_hash, user_agent=request.headers.get("user-agent"), now=container.clock.now())
    return CaptureReceived()
