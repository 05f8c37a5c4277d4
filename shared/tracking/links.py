"""Share links: a member's trackable link to a target, for a source, behind a short code.

A link is two documents: the brand's `links` document (what the member lists and edits) and the
platform's `link_codes` document (what `/t/{code}` reads; see shared/tracking/link_codes.py).
The code is claimed first (its create is the uniqueness check), so a failed link never leaves a
code pointing nowhere for long, and a taken code is simply drawn again.

Abuse rule (issue 6, item 8): a target URL must be https on one of the brand's allowed domains
or a subdomain of one; a brand without allowed domains accepts profile links only.
"""

from __future__ import annotations

import logging
import secrets
import string
from collections.abc import Callable
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from shared.brands.models import Brand
from shared.catalog import products as catalog
from shared.clock import isoformat
from shared.errors import Conflict, InvalidInput, NotFound, TransientError
from shared.identity.models import Member
from shared.identity.repository import MEMBERS
from shared.ports.store import (
    BrandStore,
    DocumentConflict,
    DocumentNotFound,
    EtagMismatch,
    Filter,
    PatchOp,
    filtered_page,
)
from shared.ports.store_retry import retrying
from shared.tracking import link_codes
from shared.tracking.link_codes import LinkCode
from shared.tracking.models import Source, TargetKind
from shared.urls import https_url

log = logging.getLogger(__name__)

CONTAINER = "links"
CODE_LENGTH = 7  # 62^7 ≈ 3.5e12 codes: a random draw almost never meets a taken one
_ALPHABET = string.ascii_letters + string.digits
_CODE_ATTEMPTS = 5
_MAX_URL_LENGTH = 2000
_WRITE_ATTEMPTS = 3  # etag races on one link: reload and decide again
_SCAN_ROUNDS = 10  # store reads per listing page when filtering on status (not an indexed path)
QR_SOURCES = frozenset({"qr_code", "in_store"})  # sources printed or shown as a QR code

LinkStatus = Literal["active", "disabled"]


class Target(BaseModel):
    """Where a link lands: the member's profile, or an https URL on the brand's allowed domains."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    kind: TargetKind
    url: str | None = Field(None, max_length=_MAX_URL_LENGTH)
    product_id: str | None = Field(None, alias="productId", min_length=1, max_length=120)
    publication_id: str | None = Field(None, alias="publicationId", min_length=1, max_length=120)


class LinkStatusChange(BaseModel):
    """Body of a link's status change (by its member or by the brand)."""

    model_config = ConfigDict(extra="forbid")

    status: LinkStatus


class LinkCreate(BaseModel):
    """Body of a link creation."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    source: Source
    target: Target


class Link(BaseModel):
    """A stored link (the brand's `links` document)."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    code: str
    member_id: str = Field(alias="memberId")
    source: Source
    target: Target
    status: LinkStatus = "active"
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")


def new_code() -> str:
    """A random base62 short code."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))


def profile_url(app_base_url: str, brand_id: str, member_id: str) -> str:
    """The member's public profile page in the App (the `profile` target)."""
    return f"{app_base_url.rstrip('/')}/{brand_id}/members/{member_id}"


def short_url(public_base_url: str, code: str) -> str:
    """The shareable address of a code."""
    return f"{public_base_url.rstrip('/')}/t/{code}"


def _field_error(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"Invalid value for: {field}", errors=[{"field": field, "message": message}])


def check_target_url(url: str | None, brand: Brand) -> str:
    """The target URL if it is https on one of the brand's allowed domains (or a subdomain); else 422."""
    if not url:
        raise _field_error("target.url", "a URL is required for this kind of target")
    target = url.strip()
    try:
        https_url(target)  # the one check of an address we send people to (shared/urls.py)
    except ValueError as exc:
        raise _field_error("target.url", f"the target {exc}") from exc
    if not brand.allows_host(urlsplit(target).hostname):
        raise _field_error("target.url", "the target must be on one of the brand's allowed domains")
    return target


def _catalog_url(store: BrandStore, target: Target) -> str | None:
    """A product target naming a catalog product lands on its page (the catalog's link) unless it gives one.

    That link is stored as the target; with the brand's social commerce the redirect sends the click to
    the App's page of the product instead (the link's code names the product).
    """
    if target.kind != "product" or target.product_id is None:
        return target.url
    product = store.find(catalog.PRODUCTS, target.product_id)
    if product is None:
        return target.url  # a product the brand's catalog does not hold (yet): the URL given decides
    if product["status"] != "active":
        raise _field_error("target.productId", "this product is no longer in the brand's catalog")
    return target.url or product["link"]


def resolve_target(target: Target, *, store: BrandStore, brand: Brand, member: Member, app_base_url: str) -> Target:
    """The target as stored: a profile gets the member's own profile URL; other kinds are checked."""
    if target.kind == "profile":
        if target.url is not None:
            raise _field_error("target.url", "a profile link always targets the member's own profile")
        return target.model_copy(update={"url": profile_url(app_base_url, brand.id, member.id)})
    return target.model_copy(update={"url": check_target_url(_catalog_url(store, target), brand)})


def _to_document(link: Link) -> dict:
    doc = link.model_dump(mode="json", by_alias=True, exclude_none=True)
    return doc | {"createdAt": isoformat(link.created_at), "updatedAt": isoformat(link.updated_at)}


def _from_document(doc: dict) -> Link:
    return Link.model_validate({key: value for key, value in doc.items() if key not in {"_etag", "brandId"}})


def _claim_code(platform: BrandStore, link_code_for: Callable[[str], LinkCode]) -> LinkCode:
    for _ in range(_CODE_ATTEMPTS):
        candidate = link_code_for(new_code())
        try:
            platform.create(link_codes.CONTAINER, link_codes.to_document(candidate))
            return candidate
        except DocumentConflict:
            continue
    raise TransientError("No free short code found; try again")


def create(*, store: BrandStore, platform: BrandStore, brand: Brand, member: Member, data: LinkCreate,
           now: datetime, app_base_url: str) -> Link:
    """Create a member's link: check the target, claim a unique code, write the code then the link."""
    target = resolve_target(data.target, store=store, brand=brand, member=member, app_base_url=app_base_url)
    link_id = f"lk{secrets.token_hex(8)}"

    # A product target without its own URL lands on the catalog product's page, wherever the brand's
    # setting puts it when the link is followed (shared/tracking/redirect.py).
    page_of = data.target.product_id if data.target.kind == "product" and data.target.url is None else None

    def link_code_for(code: str) -> LinkCode:
        return LinkCode(code=code, brand=brand.id, link_id=link_id, member_id=member.id, source=data.source,
                        target_kind=target.kind, url=target.url or "", status="active", product_id=page_of)

    claimed = _claim_code(platform, link_code_for)
    link = Link(id=link_id, code=claimed.code, member_id=member.id, source=data.source, target=target,
                status="active", created_at=now, updated_at=now)
    try:
        store.create(CONTAINER, _to_document(link))
    except Exception:
        # Give the code back so nothing half-written stays behind.
        platform.delete(link_codes.CONTAINER, claimed.code, pk=link_codes.partition(claimed.code))
        raise
    log.info("link created link=%s member=%s source=%s", link.id, member.id, link.source)
    return link


def get_own(*, store: BrandStore, member_id: str, link_id: str) -> Link:
    """One of the member's links; another member's (or an unknown id) is NotFound."""
    doc = store.find(CONTAINER, link_id)
    if doc is None or doc.get("memberId") != member_id:
        raise NotFound("Link not found")
    return _from_document(doc)


def list_own(*, store: BrandStore, member_id: str, page_size: int = 50,
             continuation: str | None = None) -> tuple[list[Link], str | None]:
    """The member's links, newest first, a page at a time."""
    page = store.query(CONTAINER, filters=[Filter("memberId", "=", member_id)], order_by="createdAt",
                       descending=True, page_size=page_size, continuation=continuation)
    return [_from_document(doc) for doc in page.items], page.continuation


def set_status(*, store: BrandStore, platform: BrandStore, member_id: str, link_id: str, status: LinkStatus,
               now: datetime) -> Link:
    """Disable or re-enable one of the member's links (the code follows; the redirect within its cache TTL).

    A link the brand disabled (`disabledBy`) cannot be re-enabled by its member: Conflict (409).
    """

    def attempt() -> Link:
        doc = store.find(CONTAINER, link_id)
        if doc is None or doc.get("memberId") != member_id:
            raise NotFound("Link not found")
        link = _from_document(doc)
        if status == "active" and doc.get("disabledBy"):
            raise _brand_disabled()
        if link.status == status:
            return link
        # The code first: if the second write fails, the redirect already obeys and a retry converges.
        _set_code_status(platform, link, status)
        try:
            doc = store.patch(CONTAINER, link.id, [PatchOp("set", "status", status),
                                                  PatchOp("set", "updatedAt", isoformat(now))], etag=doc["_etag"])
        except EtagMismatch:
            # The brand changed the link meanwhile: the code goes back to what the document says.
            _resync_code(store, platform, link)
            raise
        log.info("link %s link=%s member=%s", status, link.id, member_id)
        return _from_document(doc)

    return retrying(attempt, attempts=_WRITE_ATTEMPTS, exhausted=_keeps_changing())


def _keeps_changing() -> TransientError:
    return TransientError("The link keeps changing; try again")


# --- The brand's view (Manager) -------------------------------------------------------------------


class DisabledBy(BaseModel):
    """Who disabled a link on the brand's side: a Manager user, and when."""

    model_config = ConfigDict(populate_by_name=True)

    by: Literal["brand"] = "brand"
    user_id: str = Field(alias="userId")
    at: datetime


class BrandLink(Link):
    """A link as the brand sees it: `disabled_by` is set while the brand keeps it disabled."""

    disabled_by: DisabledBy | None = Field(None, alias="disabledBy")


def _brand_disabled() -> Conflict:
    return Conflict("This link was disabled by the brand; only the brand can re-enable it",
                    reason="disabled-by-brand")


def _brand_link(doc: dict) -> BrandLink:
    return BrandLink.model_validate({key: value for key, value in doc.items() if key not in {"_etag", "brandId"}})


def _set_code_status(platform: BrandStore, link: Link, status: LinkStatus) -> None:
    try:
        platform.patch(link_codes.CONTAINER, link.code, [PatchOp("set", "status", status)],
                       pk=link_codes.partition(link.code))
    except DocumentNotFound:
        log.warning("link code missing link=%s", link.id)


def _resync_code(store: BrandStore, platform: BrandStore, link: Link) -> None:
    """Put the code back in line with the link document (after a lost race or a failed write)."""
    current = store.find(CONTAINER, link.id)
    _set_code_status(platform, link, (current or {}).get("status", "disabled"))


def get_for_brand(*, store: BrandStore, link_id: str) -> BrandLink:
    """One link of the brand (`store` is the brand's: another brand's link is NotFound)."""
    doc = store.find(CONTAINER, link_id)
    if doc is None:
        raise NotFound("Link not found")
    return _brand_link(doc)


def list_for_brand(*, store: BrandStore, member_id: str | None = None, status: LinkStatus | None = None,
                   page_size: int = 50, continuation: str | None = None) -> tuple[list[BrandLink], str | None]:
    """The brand's links, newest first, optionally of one member and/or one status, a page at a time.

    `status` is not an indexed path, so it is filtered here while paging: each store read asks for
    exactly the items still missing (so the store's token stays exact), at most `_SCAN_ROUNDS`
    reads per page; a page may then hold fewer than `page_size` items with a continuation set.
    """
    filters = [Filter("memberId", "=", member_id)] if member_id else []
    page = filtered_page(store, CONTAINER, lambda doc: status is None or doc.get("status") == status,
                         page_size=page_size, continuation=continuation, max_reads=_SCAN_ROUNDS if status else 1,
                         filters=filters, order_by="createdAt", descending=True)
    return [_brand_link(doc) for doc in page.items], page.continuation


def _member_erased(store: BrandStore, member_id: str) -> bool:
    doc = store.find(MEMBERS, member_id)
    return doc is None or doc.get("status") == "erased"


def set_status_by_brand(*, store: BrandStore, platform: BrandStore, link_id: str, status: LinkStatus,
                        manager_user_id: str, now: datetime) -> BrandLink:
    """The brand disables a link (its member can no longer re-enable it) or re-enables one it disabled.

    Re-enabling a link its member (or the member's erasure) disabled is a Conflict: that choice is
    the member's. The link document is written with its etag; the code follows it.
    """

    def attempt() -> BrandLink:
        doc = store.find(CONTAINER, link_id)
        if doc is None:
            raise NotFound("Link not found")
        link = _brand_link(doc)
        if status == "disabled":
            if link.disabled_by is not None:
                _set_code_status(platform, link, "disabled")  # converges after an earlier failed write
                return link
            ops = [PatchOp("set", "status", "disabled"),
                   PatchOp("set", "disabledBy", {"by": "brand", "userId": manager_user_id, "at": isoformat(now)})]
        else:
            if link.disabled_by is None:
                if link.status == "active":
                    _set_code_status(platform, link, "active")
                    return link
                raise Conflict("This link was disabled by its member; only the member can re-enable it",
                               reason="disabled-by-member")
            if _member_erased(store, link.member_id):
                raise Conflict("This link's member has been erased; the link stays disabled", reason="member-erased")
            ops = [PatchOp("set", "status", "active"), PatchOp("remove", "disabledBy")]
        _set_code_status(platform, link, status)
        try:
            doc = store.patch(CONTAINER, link.id, [*ops, PatchOp("set", "updatedAt", isoformat(now))],
                              etag=doc["_etag"])
        except Exception:  # a lost race (retried) or a failed write: the code goes back to the document
            _resync_code(store, platform, link)
            raise
        log.info("link %s by brand link=%s manager_user=%s", status, link.id, manager_user_id)
        return _brand_link(doc)

    return retrying(attempt, attempts=_WRITE_ATTEMPTS, exhausted=_keeps_changing())
