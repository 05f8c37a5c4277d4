"""Dependencies shared by the routers: the composition root, the caller, the brand in scope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from popsell.bootstrap import Container, get_container
from shared.brands import service as brands
from shared.brands.models import Brand
from shared.errors import Forbidden, NotFound, Unauthorized
from shared.identity import manager_users
from shared.identity.tokens import ManagerLevel, Principal
from shared.store_schema import PLATFORM_SCOPE


def container_dependency() -> Container:
    """The process-wide composition root (never lifespan state: it does not reach requests under Functions)."""
    return get_container()


ContainerDep = Annotated[Container, Depends(container_dependency)]
# Declared by every dependency that reads it, so each operation's document names its brand parameter.
BrandInPath = Annotated[str, Path(description="The brand's id (its programme)", min_length=1, max_length=40)]


def client_ip(request: Request) -> str | None:
    """The client's address as the edge resolved it (functions/http_api/client_address.py), or None."""
    return request.client.host if request.client else None


ClientIp = Annotated[str | None, Depends(client_ip)]

_manager_bearer = HTTPBearer(auto_error=False, scheme_name="ManagerToken", description="Manager access token")


def manager_principal(
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_manager_bearer)],
) -> Principal:
    """The Manager user (or platform operator) behind the bearer token, checked against the stored user.

    A disabled or deleted user is refused at once, and a lowered level applies at once.
    """
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("A Manager bearer token is required")
    principal = container.tokens.verify(credentials.credentials, audience="manager", now=container.clock.now())
    scope = principal.brand_id if principal.level != "operator" else PLATFORM_SCOPE
    level = manager_users.check_active(
        store=container.store.for_brand(scope or PLATFORM_SCOPE), user_id=principal.subject, token_level=principal.level
    )
    return replace(principal, level=level)


ManagerPrincipal = Annotated[Principal, Depends(manager_principal)]


def require_level(minimum: ManagerLevel) -> Callable[[Principal], Principal]:
    """A dependency refusing Manager users below `minimum` (viewer < editor < admin < operator)."""

    def check(principal: ManagerPrincipal) -> Principal:
        if not principal.has_level(minimum):
            raise Forbidden(f"This action needs the {minimum} level")
        return principal

    return check


OperatorPrincipal = Annotated[Principal, Depends(require_level("operator"))]


def managed_brand(brand_id: str, principal: ManagerPrincipal, container: ContainerDep) -> Brand:
    """The brand in the path, if the caller may see it: another brand's answers 404, never 403."""
    if not principal.is_operator and principal.brand_id != brand_id:
        raise NotFound("Brand not found")
    return brands.get(store=container.store, brand_id=brand_id)


ManagedBrand = Annotated[Brand, Depends(managed_brand)]
