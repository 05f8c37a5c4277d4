"""Who may call a route: every route declares its audience and minimum role or level, here.

`access(...)` returns the route's keyword arguments: the dependency that enforces the rule and
an `x-access` note in the OpenAPI document, which the access-control matrix test reads to walk
every route with every kind of caller.

Audiences:
- public: anyone (health, OpenAPI, widget configuration, links sent by email);
- member: a member of the brand in the path (roles 0-6, optionally only some), status active;
- visitor: an external user of the brand in the path (roles 7-8) holding a widget token;
- contact: a contact of the brand in the path holding a rights session (opened by a one-time link
  sent to their address: shared.gdpr.contact_rights);
- manager: a Manager user of the brand in the path at the minimum level, or an operator;
- operator: a platform operator only;
- integration: a brand platform signing its request with one of the brand's keys;
- webhook: an outside service (the email provider) proving a shared secret, checked by the route;
- dev: local dev mode only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from functions.http_api.deps import BrandInPath, ContainerDep, require_level
from functions.http_api.integration_auth import signed_brand_request
from popsell.bootstrap import Container
from shared.errors import Forbidden, NotFound, PayloadTooLarge, Unauthorized
from shared.identity import member_sessions
from shared.identity.models import Member, Role
from shared.identity.tokens import Audience, ManagerLevel, Principal

AccessAudience = Literal["public", "member", "visitor", "contact", "manager", "operator", "integration", "webhook",
                         "dev"]

_app_bearer = HTTPBearer(auto_error=False, scheme_name="AppToken", description="Member access token")
_widget_bearer = HTTPBearer(auto_error=False, scheme_name="WidgetToken", description="Visitor access token")
_contact_bearer = HTTPBearer(auto_error=False, scheme_name="ContactRightsToken",
                             description="Contact rights session (opened with the one-time link sent to the address)")


def _bearer(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("A bearer token is required")
    return credentials.credentials


def _brand_in_path(request: Request) -> str | None:
    return request.path_params.get("brand_id")


def _of_path_brand(credentials: HTTPAuthorizationCredentials | None, audience: Audience, brand_id: str,
                   container: Container) -> Principal:
    """The principal of a bearer token of `audience`, for the brand in the path only (another brand's answers 404)."""
    principal = container.tokens.verify(_bearer(credentials), audience=audience, now=container.clock.now())
    if principal.brand_id != brand_id:
        raise NotFound("Not found")
    return principal


def member_principal(
    brand_id: BrandInPath,
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_app_bearer)],
) -> Principal:
    """The member behind an App token, for the brand in the path only (another brand's answers 404)."""
    return _of_path_brand(credentials, "app", brand_id, container)


def current_member(principal: Annotated[Principal, Depends(member_principal)], container: ContainerDep) -> Member:
    """The calling member, read now: a blocked, unsubscribed or ended member is refused at once."""
    return member_sessions.calling_member(store=container.store.for_brand(principal.brand_id or ""),
                                          principal=principal)


CurrentMember = Annotated[Member, Depends(current_member)]


def visitor_principal(
    brand_id: BrandInPath,
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_widget_bearer)],
) -> Principal:
    """The external user behind a widget token, for the brand in the path only."""
    return _of_path_brand(credentials, "widget", brand_id, container)


CurrentVisitor = Annotated[Principal, Depends(visitor_principal)]


def contact_principal(
    brand_id: BrandInPath,
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_contact_bearer)],
) -> Principal:
    """The contact behind a rights session, for the brand in the path only; its subject is their email hash."""
    return _of_path_brand(credentials, "contact", brand_id, container)


def contact_email_hash(principal: Annotated[Principal, Depends(contact_principal)]) -> str:
    """The keyed hash of the address whose control the session proved (every contact with it is the person)."""
    return principal.subject


CurrentContact = Annotated[str, Depends(contact_email_hash)]


def _member_roles(roles: tuple[Role, ...] | None) -> Callable[..., Member]:
    def check(member: CurrentMember) -> Member:
        if roles and member.role not in roles:
            raise Forbidden("Your role does not allow this")
        return member

    return check


def _manager_of_path_brand(minimum: ManagerLevel) -> Callable[..., Principal]:
    level_check = require_level(minimum)

    # A default, not Annotated: with postponed annotations a closure variable cannot be resolved.
    def check(request: Request, principal: Principal = Depends(level_check)) -> Principal:
        brand_id = _brand_in_path(request)
        if brand_id is not None and not principal.is_operator and principal.brand_id != brand_id:
            raise NotFound("Not found")
        return principal

    return check


def access(
    audience: AccessAudience,
    *,
    level: ManagerLevel | None = None,
    roles: tuple[Role, ...] | None = None,
) -> dict[str, Any]:
    """Keyword arguments of a route: the dependency enforcing `audience` and an `x-access` OpenAPI note."""
    dependencies: list[Any] = []
    if audience == "member":
        dependencies.append(Depends(_member_roles(roles)))
    elif audience == "visitor":
        dependencies.append(Depends(visitor_principal))
    elif audience == "contact":
        dependencies.append(Depends(contact_principal))
    elif audience == "manager":
        dependencies.append(Depends(_manager_of_path_brand(level or "viewer")))
    elif audience == "operator":
        dependencies.append(Depends(require_level("operator")))
    elif audience == "integration":
        dependencies.append(Depends(signed_brand_request))
    note: dict[str, Any] = {"audience": audience}
    if level or audience == "manager":
        note["level"] = level or "viewer"
    if roles:
        note["roles"] = [int(role) for role in roles]
    return {"dependencies": dependencies, "openapi_extra": {"x-access": note}}


def raw_body(declared: dict[str, Any], media_types: tuple[str, ...], *, max_bytes: int | None = None) -> dict[str, Any]:
    """`access(...)`'s keyword arguments for a route that reads its body itself: the OpenAPI request body it takes,
    and with `max_bytes` a body declaring more refused (413) before anything reads it, the signature check included.
    """
    declared["openapi_extra"]["requestBody"] = {
        "required": True,
        "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in media_types},
    }
    if max_bytes is not None:
        declared["dependencies"] = [Depends(_declared_length_at_most(max_bytes)), *declared["dependencies"]]
    return declared


def _declared_length_at_most(max_bytes: int) -> Callable[[Request], None]:
    def check(request: Request) -> None:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > max_bytes:
            raise PayloadTooLarge(f"This route takes at most {max_bytes // (1024 * 1024)} MB", maxBytes=max_bytes)

    return check
