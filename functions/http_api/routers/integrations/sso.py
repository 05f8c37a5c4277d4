"""Brand SSO: the brand platform provisions, syncs and ends members (their login is the App's `auth/sso`)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from fastapi import APIRouter, Response, status

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep
from functions.http_api.integration_auth import SignedBrand
from functions.http_api.problems import other_success, problem_responses
from shared.identity import sso
from shared.identity.models import CamelModel, Member, MemberStatus, Role
from shared.identity.sso import SsoMemberSync

router = APIRouter()
_TAGS: list[str | Enum] = ["integrations: SSO"]
MEMBERS = "/api/v1/integrations/{brand_id}/sso/members"


class SsoMemberRead(CamelModel):
    """What the brand platform gets back: ids and state, no personal data echoed."""

    member_id: str
    sso_subject: str
    role: Role
    status: MemberStatus
    erasure_due_at: datetime | None = None


def _read(member: Member) -> SsoMemberRead:
    return SsoMemberRead(member_id=member.id, sso_subject=member.sso_subject or "", role=member.role,
                         status=member.status, erasure_due_at=member.erasure_due_at)


@router.post(MEMBERS, tags=_TAGS, response_model=SsoMemberRead,
             responses={**problem_responses(401, 409, 422),
                        **other_success(201, SsoMemberRead, "The member was provisioned now")},
             **access("integration"))
def sync_member(data: SsoMemberSync, call: SignedBrand, container: ContainerDep, response: Response) -> SsoMemberRead:
    """Provision a member by its SSO subject (201), or update only the synced fields given (200)."""
    brand_id = call.brand.id
    member, created = sso.upsert_member(store=container.store.for_brand(brand_id), events=container.events,
                                        hasher=container.hasher(brand_id),
                                        profile=data, now=container.clock.now())
    if created:
        response.status_code = status.HTTP_201_CREATED
    return _read(member)


@router.delete(f"{MEMBERS}/{{sso_subject}}", tags=_TAGS, response_model=SsoMemberRead,
               responses=problem_responses(401, 404), **access("integration"))
def end_member(sso_subject: str, call: SignedBrand, container: ContainerDep) -> SsoMemberRead:
    """The account was deleted on the brand's side: access blocked now, erasure after the brand's delay."""
    brand_id = call.brand.id
    member = sso.end_member(events=container.events, store=container.store.for_brand(brand_id),
                            hasher=container.hasher(brand_id), brand=call.brand, sso_subject=sso_subject,
                            now=container.clock.now())
    return _read(member)
