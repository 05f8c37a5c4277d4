"""Create, read and configure brands. Brand documents live under the platform scope."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from shared.brands.models import Brand, BrandCreate, BrandStatus, BrandUpdate, IntegrationKey, IntegrationKeyCreated
from shared.clock import Clock, isoformat
from shared.config import Settings
from shared.errors import Conflict, InvalidInput, NotFound
from shared.ports.store import BrandStore, DocumentConflict, DocumentNotFound, DocumentStore
from shared.ports.store_retry import retrying
from shared.store_schema import PLATFORM_SCOPE
from shared.urls import is_loopback

CONTAINER = "brands"
_MAX_UPDATE_ATTEMPTS = 5


def _registry(store: DocumentStore) -> BrandStore:
    return store.for_brand(PLATFORM_SCOPE)


def _to_document(brand: Brand) -> dict[str, Any]:
    doc = brand.model_dump(mode="json", by_alias=True)
    doc["createdAt"] = isoformat(brand.created_at)
    doc["updatedAt"] = isoformat(brand.updated_at)
    return doc


def _from_document(doc: dict[str, Any]) -> Brand:
    return Brand.model_validate({k: v for k, v in doc.items() if k not in {"_etag", "brandId"}})


def invalid_input(exc: ValidationError) -> InvalidInput:
    """A pydantic error as the product's 422, naming each field."""
    errors = [
        {"field": ".".join(str(part) for part in error["loc"]), "message": error["msg"]} for error in exc.errors()
    ]
    fields = ", ".join(error["field"] or "body" for error in errors)
    return InvalidInput(f"Invalid value for: {fields}", errors=errors)


def _new_key(clock: Clock) -> IntegrationKey:
    return IntegrationKey(kid=f"k{secrets.token_hex(4)}", secret=secrets.token_urlsafe(32), created_at=clock.now())


def refuse_loopback(brand: Brand) -> None:
    """Outside local runs a brand's pages and widget origins are public sites, never a developer's machine."""
    urls = {"homeUrl": brand.home_url, "privacyPolicyUrl": brand.privacy_policy_url}
    urls |= {f"widgetAllowedOrigins.{index}": value for index, value in enumerate(brand.widget_allowed_origins)}
    errors = [{"field": field, "message": "a loopback address (localhost) is for local runs only"}
              for field, value in urls.items() if is_loopback(value)]
    if errors:
        raise InvalidInput("Invalid value for: " + ", ".join(error["field"] for error in errors), errors=errors)


def create(*, store: DocumentStore, clock: Clock, data: BrandCreate,
           allow_loopback: bool = False) -> tuple[Brand, IntegrationKeyCreated]:
    """Create a brand with the guide's defaults and a first integration key (its secret shown once).

    `allow_loopback`: local runs only, where the brand's site may be a developer's localhost.
    """
    now = clock.now()
    key = _new_key(clock)
    brand = Brand.model_validate(
        {**data.model_dump(by_alias=True), "createdAt": now, "updatedAt": now, "integrationKeys": [key]}
    )
    if not allow_loopback:
        refuse_loopback(brand)
    try:
        _registry(store).create(CONTAINER, _to_document(brand))
    except DocumentConflict as exc:
        raise Conflict(f"Brand {data.id!r} already exists") from exc
    return brand, IntegrationKeyCreated(kid=key.kid, secret=key.secret, created_at=key.created_at)


def get(*, store: DocumentStore, brand_id: str) -> Brand:
    """One brand; NotFound if it does not exist."""
    try:
        return _from_document(_registry(store).get(CONTAINER, brand_id))
    except DocumentNotFound as exc:
        raise NotFound("Brand not found") from exc


def get_public(*, store: DocumentStore, brand_id: str) -> Brand:
    """A brand as its public pages see it: NotFound when unknown or once its contract ended."""
    brand = get(store=store, brand_id=brand_id)
    if brand.status == "contract_ended":
        raise NotFound("Brand not found")
    return brand


def email_data(brand: Brand) -> dict[str, Any]:
    """What every email of the brand names: the brand, and its privacy policy when it has one of its own
    (the layout falls back to the platform's: shared.emails.render)."""
    data: dict[str, Any] = {"brand_name": brand.name}
    if brand.privacy_policy_url:
        data["privacy_policy_url"] = brand.privacy_policy_url
    return data


def privacy_policy_url(brand: Brand, settings: Settings) -> str:
    """The privacy policy a brand's people are shown (widgets, forms, emails): the brand's own, else the platform's."""
    return brand.privacy_policy_url or settings.privacy_policy_url


def get_all(
    *, store: DocumentStore, page_size: int = 50, continuation: str | None = None
) -> tuple[list[Brand], str | None]:
    """Every brand, a page at a time (operator listing, timers looping over tenants)."""
    page = _registry(store).query(CONTAINER, order_by="id", page_size=page_size, continuation=continuation)
    return [_from_document(doc) for doc in page.items], page.continuation


def all_brand_ids(*, store: DocumentStore) -> list[str]:
    """Ids of every brand (timers contain failures per brand, so they list first)."""
    return [doc["id"] for doc in _registry(store).query_all(CONTAINER, order_by="id", page_size=200)]


def _merge(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _modify(store: DocumentStore, clock: Clock, brand_id: str, change, check=None) -> Brand:
    """Load, apply `change(doc) -> doc`, validate and replace with the etag; retry when a writer raced us."""
    registry = _registry(store)

    def attempt() -> Brand:
        try:
            doc = registry.get(CONTAINER, brand_id)
        except DocumentNotFound as exc:
            raise NotFound("Brand not found") from exc
        etag = doc["_etag"]
        candidate = change({k: v for k, v in doc.items() if k not in {"_etag", "brandId"}})
        candidate["updatedAt"] = clock.now()
        try:
            brand = Brand.model_validate(candidate)
        except ValidationError as exc:
            raise invalid_input(exc) from exc
        if check is not None:
            check(brand)
        registry.replace(CONTAINER, _to_document(brand), etag=etag)
        return brand

    return retrying(attempt, attempts=_MAX_UPDATE_ATTEMPTS,
                    exhausted=Conflict("Brand was changed concurrently; try again"))


def update(*, store: DocumentStore, clock: Clock, brand_id: str, changes: BrandUpdate,
           allow_loopback: bool = False) -> Brand:
    """Apply a partial update of the settings; nested objects (retention, registration) merge."""
    given = changes.model_dump(by_alias=True, exclude_unset=True)
    return _modify(store, clock, brand_id, lambda doc: _merge(doc, given),
                   check=None if allow_loopback else refuse_loopback)


def set_status(*, store: DocumentStore, clock: Clock, brand_id: str, status: BrandStatus) -> Brand:
    """Change the programme status (active, suspended, contract ended), dating the change.

    The same status again keeps its date: a repeated call must not restart a suspension's six months
    or a contract end's delay (the brand-wide erasures count from `statusChangedAt`).
    """
    now = isoformat(clock.now())

    def change(doc: dict[str, Any]) -> dict[str, Any]:
        if doc.get("status", "active") == status and doc.get("statusChangedAt"):
            return doc
        return {**doc, "status": status, "statusChangedAt": now}

    return _modify(store, clock, brand_id, change)


def create_integration_key(*, store: DocumentStore, clock: Clock, brand_id: str) -> IntegrationKeyCreated:
    """Add a signing key for the brand's platform; older keys keep working until revoked."""
    key = _new_key(clock)
    _modify(
        store,
        clock,
        brand_id,
        lambda doc: {**doc, "integrationKeys": [*doc.get("integrationKeys", []), key.model_dump(by_alias=True)]},
    )
    return IntegrationKeyCreated(kid=key.kid, secret=key.secret, created_at=key.created_at)


def revoke_integration_key(*, store: DocumentStore, clock: Clock, brand_id: str, kid: str) -> Brand:
    """Remove a key: requests signed with it are refused from now on."""

    def remove(doc: dict[str, Any]) -> dict[str, Any]:
        keys = doc.get("integrationKeys", [])
        if not any(key["kid"] == kid for key in keys):
            raise NotFound("Integration key not found")
        return {**doc, "integrationKeys": [key for key in keys if key["kid"] != kid]}

    return _modify(store, clock, brand_id, remove)


def check_link(brand: Brand, link: str, field: str = "link") -> None:
    """Refuse a link outside the brand's allowed domains (422 naming `field`)."""
    if not brand.allows_host(urlsplit(link).hostname):
        raise InvalidInput("The link must point to one of the brand's domains",
                           errors=[{"field": field, "message": "link not on the brand's allowed domains"}])
