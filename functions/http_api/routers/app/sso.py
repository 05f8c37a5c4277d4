"""Brand SSO login for the App: a member logs in by an assertion the brand platform signed."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from functions.http_api.routers.app.auth import TokenPairRead
from shared.identity import member_sessions, sso
from shared.identity.models import CamelModel
from shared.identity.visitors import open_brand
from shared.integrations import calls

router = APIRouter()


class SsoAssertionLogin(CamelModel):
    """A JWT signed by the brand platform with one of its integration keys (see docs/integrations.md)."""

    assertion: str = Field(min_length=1, max_length=8192)


class SsoSessionRead(TokenPairRead):
    """An App session opened by SSO; `created` when this login provisioned the member."""

    created: bool


@router.post("/api/v1/app/{brand_id}/auth/sso", tags=["App: authentication"], response_model=SsoSessionRead,
             responses=problem_responses(401, 404, 409, 422), **access("public"))
def sso_login(brand_id: str, body: SsoAssertionLogin, container: ContainerDep) -> SsoSessionRead:
    """Automatic login with a brand-signed assertion: provisions or updates the member, opens an App session."""
    now = container.clock.now()
    brand = open_brand(store=container.store, brand_id=brand_id)
    assertion = calls.accept_assertion(store=container.store, brand=brand, token=body.assertion, now=now)
    store = container.store.for_brand(brand.id)
    member, created = sso.login(store=store, events=container.events, hasher=container.hasher(brand.id),
                                assertion=assertion, now=now)
    pair = member_sessions.open_app_session(store=store, tokens=container.tokens, member=member, brand_id=brand.id,
                                            now=now)
    return SsoSessionRead(**TokenPairRead.of(pair).model_dump(), created=created)
