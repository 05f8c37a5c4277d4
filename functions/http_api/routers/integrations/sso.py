"""Brand SSO: the brand platform provisions, syncs and ends members; members log in by a brand assertion."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from fastapi import APIRouter, Response, status
from pydantic import Field

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep
from functions.http_api.integration_auth import SignedBrand
from functions.http_api.problems import other_success, problem_responses
from functions.http_api.routers.app.auth import TokenPairRead
from shared.identity import member_sessions, sso
from shared.identity.models import CamelModel, Member, MemberStatus, Role
from shared.identity.sso import SsoMemberSync
from shared.identity.visitors import open_brand
from shared.integrations import calls

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


class SsoAssertionLogin(CamelModel):
    """A JWT signed by the brand platform with one of its integration keys (see docs/integrations.md)."""

    assertion: str = Field(min_length=1, max_length=8192)


class SsoSessionRead(TokenPairRead):
    """An App session opened by SSO; `created` when this login provisioned the member."""

    created: bool


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
    member, created = sso.upsert_member(store=container.store.for_brand(brand_id), hasher=container.hasher(brand_id),
                                        profile=data, now=container.clock.now())
    if created:
        response.status_code = status.HTTP_201_CREATED
    return _read(member)


@router.delete(f"{MEMBERS}/{{sso_subject}}", tags=_TAGS, response_model=SsoMemberRead,
               responses=problem_responses(401, 404), **access("integration"))
def end_member(sso_subject: str, call: SignedBrand, container: ContainerDep) -> SsoMemberRead:
    """The account was deleted on the brand's side: access blocked now, erasure after the brand's delay."""
    brand_id = call.brand.id
    member = sso.end_member(store=container.store.for_brand(brand_id), hasher=container.hasher(brand_id),
                            brand=call.brand, sso_subject=sso_subject, now=container.clock.now())
    return _read(member)


@router.post("/api/v1/app/{brand_id}/auth/sso", tags=["App: authentication"], response_model=SsoSessionRead,
             responses=problem_responses(401, 404, 409, 422), **access("public"))
def sso_login(brand_id: str, body: SsoAssertionLogin, container: ContainerDep) -> SsoSessionRead:
    """Automatic login with a brand-signed assertion: provisions or updates the member, opens an App session."""
    now = container.clock.now()
    brand = open_brand(store=container.store, brand_id=brand_id)
    assertion = calls.accept_assertion(store=container.store, brand=brand, token=body.assertion, now=now)
    store = container.store.for_brand(brand.id)
    member, created = sso.login(store=store, hasher=container.hasher(brand.id), assertion=assertion, now=now)
    pair = member_sessions.open_app_session(store=store, tokens=container.tokens, member=member, brand_id=brand.id,
                                            now=now)
    return SsoSessionRead(**TokenPairRead.of(pair).model_dump(), created=created)
