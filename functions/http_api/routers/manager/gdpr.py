"""Manager API (admin): the GDPR register, and data-subject requests handled on a person's behalf."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep, ManagedBrand, ManagerPrincipal
from functions.http_api.paging import PagingQuery
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common.gdpr import rights_of
from shared.errors import InvalidInput
from shared.gdpr import register, requests
from shared.gdpr.requests import ManagerRequestCreate, ManagerRequestRead, RefusalCode, State
from shared.identity.models import CamelModel
from shared.identity.tokens import Principal

router = APIRouter(prefix="/api/v1/manager/brands/{brand_id}/gdpr", tags=["manager: gdpr"])

_ADMIN = access("manager", level="admin")
_HASH_PATTERN = r"^[0-9a-f]{64}$"


class RegisterEntry(CamelModel):
    """One register line: who, when, which person (keyed hash), what and why; never any content."""

    id: str
    actor: str
    action: str
    subject_hash: str
    reason: str | None = None
    request_id: str | None = None
    created_at: datetime


class RegisterPage(BaseModel):
    items: list[RegisterEntry]
    continuation: str | None = None


class ManagerRequestPage(BaseModel):
    items: list[ManagerRequestRead]
    continuation: str | None = None


class RefuseBody(BaseModel):
    """Why the request is refused: a code for the register, an explanation for the person."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    reason: RefusalCode
    detail: str | None = Field(None, max_length=1000)


def _actor(principal: Principal) -> str:
    return f"{'operator' if principal.is_operator else 'manager'}:{principal.subject}"


@router.get("/register", response_model=RegisterPage, responses=problem_responses(401, 403, 404, 422), **_ADMIN)
def read_register(
    brand: ManagedBrand,
    container: ContainerDep,
    paging: PagingQuery,
    subject_hash: Annotated[str | None, Query(alias="subjectHash", pattern=_HASH_PATTERN)] = None,
    member_id: Annotated[str | None, Query(alias="memberId", max_length=120)] = None,
    visitor_id: Annotated[str | None, Query(alias="visitorId", max_length=120)] = None,
) -> RegisterPage:
    """The brand's GDPR register, newest first; filter by one person (subjectHash, or memberId / visitorId)."""
    if sum(value is not None for value in (subject_hash, member_id, visitor_id)) > 1:
        raise InvalidInput("Filter by one person at a time",
                           errors=[{"field": "subjectHash", "message": "give one of subjectHash, memberId, visitorId"}])
    hasher = container.hasher(brand.id)
    if member_id is not None:
        subject_hash = register.subject_hash(hasher, "member", member_id)
    elif visitor_id is not None:
        subject_hash = register.subject_hash(hasher, "visitor", visitor_id)
    page = register.list_entries(store=container.store.for_brand(brand.id), subject_hash=subject_hash,
                                 page_size=paging.page_size, continuation=paging.continuation)
    return RegisterPage(items=[RegisterEntry.model_validate(doc) for doc in page.items],
                        continuation=page.continuation)


@router.post("/requests", status_code=status.HTTP_201_CREATED, response_model=ManagerRequestRead,
             responses=problem_responses(401, 403, 404, 422), **_ADMIN)
def record_request(brand: ManagedBrand, body: ManagerRequestCreate, principal: ManagerPrincipal,
                   container: ContainerDep) -> ManagerRequestRead:
    """Record a request received on a person's behalf (by mail, phone, ...): it starts as received.

    A contact is named by their address (`contactEmail`): the request covers every contact of the brand with it.
    """
    subject_kind, subject_id = body.subject(container.hasher(brand.id))
    now = container.clock.now()
    request, _ = requests.create(rights=rights_of(container, brand.id), subject_kind=subject_kind,
                                 subject_id=subject_id,
                                 kind=body.kind, details=body, channel="manager", actor=_actor(principal), now=now)
    return requests.to_manager_read(blobs=container.blobs, request=request, now=now)


@router.get("/requests", response_model=ManagerRequestPage, responses=problem_responses(401, 403, 404, 422),
            **_ADMIN)
def list_requests(
    brand: ManagedBrand,
    container: ContainerDep,
    paging: PagingQuery,
    state: Annotated[State | None, Query()] = None,
) -> ManagerRequestPage:
    """The brand's GDPR requests, newest first, optionally in one state."""
    items, token = requests.list_requests(store=container.store.for_brand(brand.id), state=state,
                                          page_size=paging.page_size,
                                          continuation=paging.continuation)
    now = container.clock.now()
    return ManagerRequestPage(items=[requests.to_manager_read(blobs=container.blobs, request=item,
                                                              now=now) for item in items],
                              continuation=token)


@router.get("/requests/{request_id}", response_model=ManagerRequestRead, responses=problem_responses(401, 403, 404),
            **_ADMIN)
def get_request(brand: ManagedBrand, request_id: str, container: ContainerDep) -> ManagerRequestRead:
    """One GDPR request of the brand."""
    request, _ = requests.get(store=container.store.for_brand(brand.id), request_id=request_id)
    return requests.to_manager_read(blobs=container.blobs, request=request, now=container.clock.now())


@router.post("/requests/{request_id}/verify-identity", response_model=ManagerRequestRead,
             responses=problem_responses(401, 403, 404, 409), **_ADMIN)
def verify_identity(brand: ManagedBrand, request_id: str, principal: ManagerPrincipal,
                    container: ContainerDep) -> ManagerRequestRead:
    """Confirm the person's identity (checked out of band): the request can then be processed."""
    now = container.clock.now()
    request = requests.verify_identity(rights=rights_of(container, brand.id), request_id=request_id,
                                       actor=_actor(principal), now=now)
    return requests.to_manager_read(blobs=container.blobs, request=request, now=now)


@router.post("/requests/{request_id}/refuse", response_model=ManagerRequestRead,
             responses=problem_responses(401, 403, 404, 409, 422), **_ADMIN)
def refuse_request(brand: ManagedBrand, request_id: str, body: RefuseBody, principal: ManagerPrincipal,
                   container: ContainerDep) -> ManagerRequestRead:
    """Refuse an open request with a reason (GDPR article 12: the person is told why)."""
    now = container.clock.now()
    request = requests.refuse(rights=rights_of(container, brand.id), request_id=request_id, code=body.reason,
                              detail=body.detail, actor=_actor(principal), now=now)
    return requests.to_manager_read(blobs=container.blobs, request=request, now=now)


@router.post("/requests/{request_id}/process", response_model=ManagerRequestRead,
             responses=problem_responses(401, 403, 404, 409, 422), **_ADMIN)
def process_request(brand: ManagedBrand, request_id: str, principal: ManagerPrincipal,
                    container: ContainerDep) -> ManagerRequestRead:
    """Carry out a verified request: the export (link emailed to a member), the erasure, or the change; then done."""
    now = container.clock.now()
    request = requests.process(rights=rights_of(container, brand.id), request_id=request_id, actor=_actor(principal),
                               now=now)
    return requests.to_manager_read(blobs=container.blobs, request=request, now=now)
