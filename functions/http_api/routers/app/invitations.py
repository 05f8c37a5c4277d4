"""App API: a member invites their contact by email; the contact accepts or declines with the link's token."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import Field

from functions.http_api.access import CurrentMember, access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from shared.brands import service as brands
from shared.crm import invitations
from shared.crm.views import ContactRead, to_member_read
from shared.identity.models import CamelModel

router = APIRouter(prefix="/api/v1/app/{brand_id}", tags=["app: invitations"])


class InvitationToken(CamelModel):
    token: str = Field(min_length=1, max_length=200)


class InvitationAnswer(CamelModel):
    """What the contact chose; nothing about the contact is returned to an anonymous caller."""

    answer: Literal["accepted", "declined"]


@router.post("/contacts/{contact_id}/invitation", response_model=ContactRead, **access("member"),
             responses=problem_responses(401, 404, 409, 422))
def invite_contact(brand_id: str, contact_id: str, member: CurrentMember, container: ContainerDep) -> ContactRead:
    """Send the invitation email to one of your contacts (only one whose consent allows it)."""
    brand = brands.get(store=container.store, brand_id=brand_id)
    contact = invitations.invite(container=container, brand=brand, member=member, contact_id=contact_id,
                                 now=container.clock.now())
    return to_member_read(contact)


@router.post("/invitations/accept", response_model=InvitationAnswer, **access("public"),
             responses=problem_responses(404, 409, 410, 422))
def accept_invitation(brand_id: str, body: InvitationToken, container: ContainerDep) -> InvitationAnswer:
    """Accept a member's invitation with the emailed link's token (single use)."""
    brand = brands.get(store=container.store, brand_id=brand_id)
    invitations.answer(container=container, brand=brand, token=body.token, choice="accept", now=container.clock.now())
    return InvitationAnswer(answer="accepted")


@router.post("/invitations/decline", response_model=InvitationAnswer, **access("public"),
             responses=problem_responses(404, 409, 410, 422))
def decline_invitation(brand_id: str, body: InvitationToken, container: ContainerDep) -> InvitationAnswer:
    """Decline a member's invitation with the emailed link's token (single use)."""
    brand = brands.get(store=container.store, brand_id=brand_id)
    invitations.answer(container=container, brand=brand, token=body.token, choice="decline",
                       now=container.clock.now())
    return InvitationAnswer(answer="declined")
