"""Widget visitors: temporary accounts on accepting the Widget Policy, their consent and data, client recognition."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import Field

from functions.http_api.access import CurrentVisitor, access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from shared.identity import visitors
from shared.identity.models import CamelModel, ExternalUser, Role, TermsAcceptance
from shared.identity.visitors import VisitorCreate, VisitorUpdate
from shared.integrations import calls

router = APIRouter(prefix="/api/v1/widget/{brand_id}/visitors", tags=["widget: visitors"])


class VisitorRead(CamelModel):
    """The visitor's own account, as the visitor sees it."""

    id: str
    role: Role
    status: str
    created_at: datetime
    widget_policy: TermsAcceptance
    service_terms: TermsAcceptance | None = None
    first_name: str | None = None
    email_tmp: str | None = None
    last_interaction_at: datetime | None = None

    @classmethod
    def of(cls, visitor: ExternalUser) -> VisitorRead:
        return cls.model_validate(visitor.model_dump())


class VisitorSession(CamelModel):
    """A widget token (24 hours) and the account it belongs to."""

    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the token scheme, not a secret
    expires_in: int = int(visitors.WIDGET_TOKEN_TTL.total_seconds())
    visitor: VisitorRead


class ClientRecognition(CamelModel):
    """A JWT signed by the brand's site (sub = the brand's customer id), see docs/integrations.md."""

    assertion: str = Field(min_length=1, max_length=8192)


def current_account(principal: CurrentVisitor, container: ContainerDep) -> ExternalUser:
    """The calling external user, active (a merged or erased account is refused), its interaction recorded."""
    store = container.store.for_brand(principal.brand_id or "")
    return visitors.record_interaction(store=store, visitor_id=principal.subject, now=container.clock.now())


CurrentAccount = Annotated[ExternalUser, Depends(current_account)]


def _session(container: ContainerDep, visitor: ExternalUser, brand_id: str) -> VisitorSession:
    token = visitors.widget_token(container.tokens, visitor, brand_id=brand_id, now=container.clock.now())
    return VisitorSession(access_token=token, visitor=VisitorRead.of(visitor))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=VisitorSession,
             responses=problem_responses(404, 422), **access("public"))
def open_temporary_account(brand_id: str, body: VisitorCreate, container: ContainerDep) -> VisitorSession:
    """Accept the Widget Policy: opens a temporary account (role 8) and returns its widget token."""
    brand = visitors.open_brand(store=container.store, brand_id=brand_id)
    visitor = visitors.create_temporary_account(store=container.store.for_brand(brand.id),
                                                hasher=container.hasher(brand.id), data=body,
                                                now=container.clock.now())
    return _session(container, visitor, brand.id)


@router.get("/me", response_model=VisitorRead, responses=problem_responses(401, 404), **access("visitor"))
def read_me(account: CurrentAccount) -> VisitorRead:
    """The calling visitor's account and consents."""
    return VisitorRead.of(account)


@router.patch("/me", response_model=VisitorRead, responses=problem_responses(401, 404, 409, 422),
              **access("visitor"))
def update_me(brand_id: str, body: VisitorUpdate, account: CurrentAccount, container: ContainerDep) -> VisitorRead:
    """Accept (or withdraw) the service terms; add, change or remove a first name or email (null removes)."""
    visitor = visitors.update(store=container.store.for_brand(brand_id), hasher=container.hasher(brand_id),
                              visitor_id=account.id, data=body, now=container.clock.now())
    return VisitorRead.of(visitor)


@router.post("/me/client", response_model=VisitorSession, responses=problem_responses(401, 404, 409, 422),
             **access("visitor"))
def recognise_client(brand_id: str, body: ClientRecognition, account: CurrentAccount,
                     container: ContainerDep) -> VisitorSession:
    """The brand's site vouches for the visitor: it becomes, or merges into, the client (role 7) of that customer."""
    now = container.clock.now()
    brand = visitors.open_brand(store=container.store, brand_id=brand_id)
    assertion = calls.accept_assertion(store=container.store, brand=brand, token=body.assertion, now=now)
    client = visitors.recognise_client(store=container.store.for_brand(brand.id), events=container.events,
                                       hasher=container.hasher(brand.id), visitor_id=account.id, assertion=assertion,
                                       now=now)
    return _session(container, client, brand.id)
