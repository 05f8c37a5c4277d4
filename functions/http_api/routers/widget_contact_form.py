"""Widget: a visitor leaves their details for a member through the external form (a CRM contact source)."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel

from functions.http_api.access import access
from functions.http_api.deps import ClientIp, ContainerDep
from functions.http_api.problems import problem_responses
from shared.crm import external_form
from shared.identity.auth import auth_context

router = APIRouter(prefix="/api/v1/widget/{brand_id}", tags=["widget: contact form"])


class Received(BaseModel):
    received: bool = True


@router.post("/members/{member_id}/contact-form", status_code=status.HTTP_202_ACCEPTED, response_model=Received,
             responses=problem_responses(404, 422, 429), **access("public"))
def contact_form(brand_id: str, member_id: str, form: external_form.ExternalFormSubmission, ip: ClientIp,
                 container: ContainerDep) -> Received:
    """Leave your details for this member; the same answer whether or not the address was already known."""
    context = auth_context(container, brand_id, ip=ip)
    external_form.submit(store=context.store, brand=context.brand, hasher=context.hasher, member_id=member_id,
                         form=form, ip_hash=context.ip_hash, now=container.clock.now())
    return Received()
