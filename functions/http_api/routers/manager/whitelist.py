"""The brand's registration whitelist (Manager): who may sign up, kept as keyed hashes only."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from shared.brands import service as brands
from shared.emails.address import checked_email
from shared.errors import InvalidInput
from shared.identity import whitelist
from shared.identity.models import CamelModel, Role

# Tagged with the App's sign-up routes too, as it was documented when both lived in one module.
router = APIRouter(tags=["App: authentication"])
WHITELIST = "/api/v1/manager/brands/{brand_id}/whitelist"
_MAX_WHITELIST_BATCH = 5000


class WhitelistChange(CamelModel):
    """Emails and customer IDs to allow (or remove); stored only as keyed hashes."""

    emails: list[str] = Field(default_factory=list, max_length=_MAX_WHITELIST_BATCH)
    customer_ids: list[str] = Field(default_factory=list, max_length=_MAX_WHITELIST_BATCH)
    role: int | None = Field(None, ge=int(Role.EMPLOYEE), le=int(Role.EXPERT))


class WhitelistCount(CamelModel):
    emails: int
    customer_ids: int


class WhitelistChanged(CamelModel):
    changed: int
    total: WhitelistCount


def _whitelist_count(container: ContainerDep, brand_id: str) -> WhitelistCount:
    totals = whitelist.count(store=container.store.for_brand(brand_id))
    return WhitelistCount(emails=totals["email"], customer_ids=totals["customer_id"])


def _checked(body: WhitelistChange) -> WhitelistChange:
    errors = [{"field": f"emails.{index}", "message": "not an email address"}
              for index, email in enumerate(body.emails) if checked_email(email) is None]
    errors += [{"field": f"customerIds.{index}", "message": "empty or longer than 120 characters"}
               for index, value in enumerate(body.customer_ids) if not value.strip() or len(value) > 120]
    if errors:
        raise InvalidInput("Invalid whitelist entries", errors=errors)
    return body


@router.post(WHITELIST, response_model=WhitelistChanged, **access("manager", level="admin"),
             responses=problem_responses(401, 403, 404, 422), tags=["Manager: registration whitelist"])
def add_to_whitelist(brand_id: str, body: WhitelistChange, container: ContainerDep) -> WhitelistChanged:
    """Allow emails and customer IDs to sign up; only their keyed hashes are stored."""
    brands.get(store=container.store, brand_id=brand_id)
    _checked(body)
    changed = whitelist.add(store=container.store.for_brand(brand_id), hasher=container.hasher(brand_id),
                            emails=body.emails,
                            customer_ids=body.customer_ids, role=body.role)
    return WhitelistChanged(changed=changed, total=_whitelist_count(container, brand_id))


@router.delete(WHITELIST, response_model=WhitelistChanged, **access("manager", level="admin"),
               responses=problem_responses(401, 403, 404, 422), tags=["Manager: registration whitelist"])
def remove_from_whitelist(brand_id: str, body: WhitelistChange, container: ContainerDep) -> WhitelistChanged:
    """Take emails and customer IDs off the list (existing members keep their accounts)."""
    brands.get(store=container.store, brand_id=brand_id)
    changed = whitelist.remove(store=container.store.for_brand(brand_id), hasher=container.hasher(brand_id),
                               emails=body.emails,
                               customer_ids=body.customer_ids)
    return WhitelistChanged(changed=changed, total=_whitelist_count(container, brand_id))


@router.get(WHITELIST, response_model=WhitelistCount, **access("manager", level="admin"),
            responses=problem_responses(401, 403, 404), tags=["Manager: registration whitelist"])
def count_whitelist(brand_id: str, container: ContainerDep) -> WhitelistCount:
    """How many emails and customer IDs the list holds (the list itself cannot be read back)."""
    brands.get(store=container.store, brand_id=brand_id)
    return _whitelist_count(container, brand_id)
