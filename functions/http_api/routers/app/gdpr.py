"""App API: a member's GDPR requests (articles 15-22): ask, follow one's own requests, confirm an erasure."""

from __future__ import annotations

from fastapi import APIRouter, status

from functions.http_api.access import CurrentMember, access
from functions.http_api.deps import ContainerDep
from functions.http_api.paging import RequestPagingQuery
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common.gdpr import ErasureConfirmation, RequestPage, rights_of
from shared.gdpr import register, requests
from shared.gdpr.requests import RequestCreate, RequestRead

router = APIRouter(prefix="/api/v1/app/{brand_id}/gdpr", tags=["app: gdpr"])


@router.post("/requests", status_code=status.HTTP_201_CREATED, response_model=RequestRead,
             responses=problem_responses(401, 404, 409, 422), **access("member"))
def make_request(brand_id: str, body: RequestCreate, member: CurrentMember, container: ContainerDep) -> RequestRead:
    """Exercise a GDPR right: an export is ready at once, an erasure waits for the emailed confirmation link."""
    now = container.clock.now()
    outcome = requests.submit_own(rights=rights_of(container, brand_id), subject_kind="member", subject_id=member.id,
                                  kind=body.kind, details=body, now=now)
    return requests.to_read(blobs=container.blobs, request=outcome.request, now=now)


@router.get("/requests", response_model=RequestPage, responses=problem_responses(401, 404, 422), **access("member"))
def list_my_requests(
    brand_id: str,
    member: CurrentMember,
    container: ContainerDep,
    paging: RequestPagingQuery,
) -> RequestPage:
    """The calling member's own GDPR requests, newest first."""
    items, token = requests.own_page(
        store=container.store.for_brand(brand_id), blobs=container.blobs, now=container.clock.now(),
        subject_hash=register.subject_hash(container.hasher(brand_id), "member", member.id),
        page_size=paging.page_size, continuation=paging.continuation)
    return RequestPage(items=items, continuation=token)


@router.get("/requests/{request_id}", response_model=RequestRead, responses=problem_responses(401, 404),
            **access("member"))
def get_my_request(brand_id: str, request_id: str, member: CurrentMember, container: ContainerDep) -> RequestRead:
    """One of the calling member's requests (another member's answers 404)."""
    return requests.own_read(
        store=container.store.for_brand(brand_id), blobs=container.blobs, request_id=request_id,
        subject_hash=register.subject_hash(container.hasher(brand_id), "member", member.id), now=container.clock.now())


@router.post("/erasure/confirm", response_model=RequestRead, responses=problem_responses(404, 409, 410, 422),
             **access("public"))
def confirm_erasure(brand_id: str, body: ErasureConfirmation, container: ContainerDep) -> RequestRead:
    """Confirm an erasure with the emailed single-use link: the personal data is erased at once."""
    now = container.clock.now()
    request = requests.confirm_erasure(rights=rights_of(container, brand_id), token=body.token, now=now)
    return requests.to_read(blobs=container.blobs, request=request, now=now)
