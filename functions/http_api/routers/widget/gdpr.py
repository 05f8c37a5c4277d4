"""Widget API: an external user's GDPR requests: export, erasure (confirmed in the widget), follow-up."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import Field

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep
from functions.http_api.paging import RequestPagingQuery
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common.gdpr import ErasureConfirmation, RequestPage, rights_of
from functions.http_api.routers.widget.visitors import CurrentAccount
from shared.gdpr import register, requests
from shared.gdpr.requests import RequestCreate, RequestRead

router = APIRouter(prefix="/api/v1/widget/{brand_id}/gdpr", tags=["widget: gdpr"])


class VisitorRequestRead(RequestRead):
    """A request just made; for an erasure, the single-use token the widget posts to confirm it."""

    confirmation_token: str | None = Field(None, alias="confirmationToken")


@router.post("/requests", status_code=status.HTTP_201_CREATED, response_model=VisitorRequestRead,
             responses=problem_responses(401, 404, 409, 422), **access("visitor"))
def make_request(brand_id: str, body: RequestCreate, account: CurrentAccount,
                 container: ContainerDep) -> VisitorRequestRead:
    """Exercise a GDPR right as a visitor: the export link comes back at once; an erasure needs confirming."""
    now = container.clock.now()
    outcome = requests.submit_own(rights=rights_of(container, brand_id), subject_kind="visitor", subject_id=account.id,
                                  kind=body.kind, details=body, now=now)
    read = requests.to_read(blobs=container.blobs, request=outcome.request, now=now)
    return VisitorRequestRead.model_validate({**read.model_dump(), "confirmation_token": outcome.confirmation_token})


@router.get("/requests", response_model=RequestPage, responses=problem_responses(401, 404, 422),
            **access("visitor"))
def list_my_requests(
    brand_id: str,
    account: CurrentAccount,
    container: ContainerDep,
    paging: RequestPagingQuery,
) -> RequestPage:
    """The calling visitor's own GDPR requests, newest first."""
    items, token = requests.own_page(
        store=container.store.for_brand(brand_id), blobs=container.blobs, now=container.clock.now(),
        subject_hash=register.subject_hash(container.hasher(brand_id), "visitor", account.id),
        page_size=paging.page_size, continuation=paging.continuation)
    return RequestPage(items=items, continuation=token)


@router.get("/requests/{request_id}", response_model=RequestRead, responses=problem_responses(401, 404),
            **access("visitor"))
def get_my_request(brand_id: str, request_id: str, account: CurrentAccount, container: ContainerDep) -> RequestRead:
    """One of the calling visitor's requests (anyone else's answers 404)."""
    return requests.own_read(
        store=container.store.for_brand(brand_id), blobs=container.blobs, request_id=request_id,
        subject_hash=register.subject_hash(container.hasher(brand_id), "visitor", account.id),
        now=container.clock.now())


@router.post("/erasure/confirm", response_model=RequestRead, responses=problem_responses(401, 404, 409, 410, 422),
             **access("visitor"))
def confirm_erasure(brand_id: str, body: ErasureConfirmation, account: CurrentAccount,
                    container: ContainerDep) -> RequestRead:
    """Confirm one's erasure with the request's single-use token: the visitor's data is erased at once."""
    now = container.clock.now()
    request = requests.confirm_erasure(rights=rights_of(container, brand_id), token=body.token, now=now,
                                       visitor_id=account.id)
    return requests.to_read(blobs=container.blobs, request=request, now=now)
