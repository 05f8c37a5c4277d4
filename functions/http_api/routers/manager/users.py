"""Manager API: Manager users — invitations (admin), acceptance and sign-in (public), levels and access (admin).

`{brand_id}` may be the platform scope ("platform"): platform operators are invited, accept
and sign in there, and only an operator manages them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from functions.http_api.access import access
from functions.http_api.deps import ClientIp, ContainerDep, ManagerPrincipal
from functions.http_api.paging import PagingQuery
from functions.http_api.problems import problem_responses
from popsell.bootstrap import Container
from shared.brands import service as brands
from shared.emails.address import EmailAddress
from shared.errors import NotFound
from shared.identity import manager_users, repository
from shared.identity.models import CamelModel, ManagerUser
from shared.identity.tokens import Principal
from shared.store_schema import PLATFORM_SCOPE

router = APIRouter(prefix="/api/v1/manager/brands/{brand_id}", tags=["manager: users"])

Level = Literal["viewer", "editor", "admin", "operator"]


class _Body(CamelModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class InvitationCreate(_Body):
    email: EmailAddress
    level: Level
    first_name: str | None = Field(None, max_length=80)
    last_name: str | None = Field(None, max_length=80)


class InvitationAccept(_Body):
    token: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=200)


class LoginRequest(_Body):
    email: EmailAddress
    password: str = Field(min_length=1, max_length=200)


class LevelChange(_Body):
    level: Level


class ManagerUserStatusChange(_Body):
    status: Literal["active", "disabled"]


class ManagerUserRead(CamelModel):
    id: str
    email: str
    level: str
    status: str
    first_name: str | None
    last_name: str | None
    invited_by: str | None
    created_at: datetime
    last_login_at: datetime | None


class ManagerUserPage(BaseModel):
    items: list[ManagerUserRead]
    continuation: str | None = None


class LoginResult(CamelModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int = Field(description="Seconds")
    user: ManagerUserRead


def _read(user: ManagerUser) -> ManagerUserRead:
    return ManagerUserRead.model_validate(user.model_dump())


def _brand_name(container: Container, brand_id: str) -> tuple[str, str | None, str]:
    """Name, privacy policy URL and locale of the scope's emails; NotFound for an unknown brand."""
    if brand_id == PLATFORM_SCOPE:
        return "Popsell", None, "en"
    brand = brands.get(store=container.store, brand_id=brand_id)
    return brand.name, brand.privacy_policy_url, brand.default_locale


def _managed_scope(brand_id: str, principal: Principal) -> None:
    # Only operators manage the platform scope; access(...) already hid other brands.
    if brand_id == PLATFORM_SCOPE and not principal.is_operator:
        raise NotFound("Not found")


@router.post(
    "/users", status_code=status.HTTP_201_CREATED, response_model=ManagerUserRead,
    responses=problem_responses(401, 403, 404, 409, 422), **access("manager", level="admin"),
)
def invite_user(
    brand_id: str, body: InvitationCreate, principal: ManagerPrincipal, container: ContainerDep
) -> ManagerUserRead:
    """Invite someone to this Manager: they get an email with a single-use link valid 72 hours."""
    _managed_scope(brand_id, principal)
    name, privacy_url, locale = _brand_name(container, brand_id)
    user = manager_users.invite(
        store=container.store.for_brand(brand_id), hasher=container.hasher(brand_id), bus=container.bus,
        settings=container.settings, brand_name=name, locale=locale, inviter_id=principal.subject,
        inviter_level=principal.level or "", email=body.email, level=body.level, first_name=body.first_name,
        last_name=body.last_name, now=container.clock.now(), privacy_policy_url=privacy_url,
    )
    return _read(user)


@router.get(
    "/users", response_model=ManagerUserPage, responses=problem_responses(401, 403, 404, 422),
    **access("manager", level="admin"),
)
def list_users(
    brand_id: str,
    principal: ManagerPrincipal,
    container: ContainerDep,
    paging: PagingQuery,
) -> ManagerUserPage:
    """This Manager's users, invited, active or disabled."""
    _managed_scope(brand_id, principal)
    page = manager_users.get_all(store=container.store.for_brand(brand_id), page_size=paging.page_size,
                                 continuation=paging.continuation)
    users = [repository.from_document(ManagerUser, doc)[0] for doc in page.items]
    return ManagerUserPage(items=[_read(user) for user in users], continuation=page.continuation)


@router.patch(
    "/users/{user_id}", response_model=ManagerUserRead, responses=problem_responses(401, 403, 404, 409, 422),
    **access("manager", level="admin"),
)
def change_user_level(
    brand_id: str, user_id: str, body: LevelChange, principal: ManagerPrincipal, container: ContainerDep
) -> ManagerUserRead:
    """Give a Manager user another level (an admin grants up to admin); not one's own."""
    _managed_scope(brand_id, principal)
    user = manager_users.change_level(store=container.store.for_brand(brand_id), user_id=user_id, level=body.level,
                                      actor_id=principal.subject, actor_level=principal.level or "")
    return _read(user)


@router.put(
    "/users/{user_id}/status", response_model=ManagerUserRead, responses=problem_responses(401, 403, 404, 409, 422),
    **access("manager", level="admin"),
)
def change_user_status(
    brand_id: str, user_id: str, body: ManagerUserStatusChange, principal: ManagerPrincipal, container: ContainerDep
) -> ManagerUserRead:
    """Disable a Manager user (they can no longer sign in) or enable them again; not one's own."""
    _managed_scope(brand_id, principal)
    user = manager_users.set_status(store=container.store.for_brand(brand_id), user_id=user_id, status=body.status,
                                    actor_id=principal.subject)
    return _read(user)


@router.post(
    "/users/invitations/accept", response_model=ManagerUserRead, responses=problem_responses(404, 409, 410, 422),
    **access("public"),
)
def accept_invitation(brand_id: str, body: InvitationAccept, container: ContainerDep) -> ManagerUserRead:
    """Accept an invitation with the emailed link's token and choose a password (the link works once)."""
    _brand_name(container, brand_id)
    user = manager_users.accept_invitation(store=container.store.for_brand(brand_id), token=body.token,
                                           password=body.password, now=container.clock.now())
    return _read(user)


@router.post(
    "/auth/login", response_model=LoginResult, responses=problem_responses(401, 404, 422, 429), **access("public")
)
def login(brand_id: str, body: LoginRequest, ip: ClientIp, container: ContainerDep) -> LoginResult:
    """Sign in to this Manager: an 8-hour Manager token. Repeated failures lock the account for a while (429)."""
    _brand_name(container, brand_id)
    user, token = manager_users.login(
        store=container.store.for_brand(brand_id), hasher=container.hasher(brand_id), tokens=container.tokens,
        email=body.email, password=body.password, ip=ip,
        now=container.clock.now(),
    )
    return LoginResult(accessToken=token, expiresIn=int(manager_users.SESSION_TTL.total_seconds()), user=_read(user))
