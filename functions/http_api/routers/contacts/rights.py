"""Contacts' rights page API: prove control of an address by a one-time link, then exercise GDPR rights with it."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from functions.http_api.access import CurrentContact, access
from functions.http_api.deps import ClientIp, ContainerDep
from functions.http_api.paging import RequestPagingQuery
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common.gdpr import RequestPage, rights_of
from shared.brands import service as brands
from shared.emails.address import EmailAddress
from shared.gdpr import contact_rights, requests
from shared.gdpr.requests import ContactRequestCreate, RequestRead
from shared.identity.models import CamelModel

router = APIRouter(prefix="/api/v1/contacts/{brand_id}/rights", tags=["contacts: rights"])


class ProofRequest(BaseModel):
    """The address whose data the person wants to see or manage."""

    model_config = ConfigDict(extra="forbid")

    email: EmailAddress


class ProofAsked(BaseModel):
    """Always the same answer: a link was emailed if, and only if, the brand's members hold the address."""

    accepted: bool = True


class ProofToken(BaseModel):
    """The token of the one-time link (the part after `#token=`)."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=200)


class RightsSession(CamelModel):
    """A rights session: send `sessionToken` as a bearer token until `expiresAt`."""

    session_token: str
    expires_at: datetime


class RightsState(CamelModel):
    """What the rights page needs to offer: whether processing is restricted now, and since when."""

    restricted: bool
    restricted_since: datetime | None = None


@router.post("/proof", status_code=status.HTTP_202_ACCEPTED, response_model=ProofAsked,
             responses=problem_responses(404, 422, 429), **access("public"))
def ask_for_proof(brand_id: str, body: ProofRequest, ip: ClientIp, container: ContainerDep) -> ProofAsked:
    """Ask for a one-time link to your address (at most one an hour); the answer never says whether it is known."""
    brand = brands.get_public(store=container.store, brand_id=brand_id)
    contact_rights.request_proof(container=container, brand=brand, email=body.email,
                                 ip_hash=container.hasher(brand_id)("ip", ip) if ip else None,
                                 now=container.clock.now())
    return ProofAsked()


@router.post("/session", status_code=status.HTTP_201_CREATED, response_model=RightsSession,
             responses=problem_responses(404, 410, 422), **access("public"))
def open_session(brand_id: str, body: ProofToken, container: ContainerDep) -> RightsSession:
    """Open a 30-minute rights session with the emailed link (single use: 410 once used or expired)."""
    brands.get_public(store=container.store, brand_id=brand_id)
    session = contact_rights.open_session(container=container, brand_id=brand_id, token=body.token,
                                          now=container.clock.now())
    return RightsSession(session_token=session.token, expires_at=session.expires_at)


@router.get("/session", response_model=RightsState, responses=problem_responses(401, 404), **access("contact"))
def read_state(brand_id: str, email_hash: CurrentContact, container: ContainerDep) -> RightsState:
    """Whether the processing of your data is restricted (GDPR article 18), and since when."""
    since = contact_rights.restricted_since(container=container, brand_id=brand_id, email_hash=email_hash)
    return RightsState(restricted=since is not None, restricted_since=since)


@router.post("/requests", status_code=status.HTTP_201_CREATED, response_model=RequestRead,
             responses=problem_responses(401, 404, 409, 422), **access("contact"))
def make_request(brand_id: str, body: ContactRequestCreate, email_hash: CurrentContact,
                 container: ContainerDep) -> RequestRead:
    """Exercise a right over every record the brand's members hold with your address; it is done at once."""
    now = container.clock.now()
    request = requests.submit_contact(rights=rights_of(container, brand_id), email_hash=email_hash, body=body, now=now)
    return requests.to_read(blobs=container.blobs, request=request, now=now)


@router.get("/requests", response_model=RequestPage, responses=problem_responses(401, 404, 422),
            **access("contact"))
def list_my_requests(
    brand_id: str,
    email_hash: CurrentContact,
    container: ContainerDep,
    paging: RequestPagingQuery,
) -> RequestPage:
    """Your GDPR requests, newest first (an export's link works 48 hours)."""
    items, token = requests.own_page(store=container.store.for_brand(brand_id), blobs=container.blobs,
                                     now=container.clock.now(), subject_hash=email_hash, page_size=paging.page_size,
                                     continuation=paging.continuation)
    return RequestPage(items=items, continuation=token)


@router.get("/requests/{request_id}", response_model=RequestRead, responses=problem_responses(401, 404),
            **access("contact"))
def get_my_request(brand_id: str, request_id: str, email_hash: CurrentContact, container: ContainerDep) -> RequestRead:
    """One of your requests (anyone else's answers 404)."""
    return requests.own_read(store=container.store.for_brand(brand_id), blobs=container.blobs,
                             request_id=request_id, subject_hash=email_hash, now=container.clock.now())
