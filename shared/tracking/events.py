"""The events the tracking aggregator raises for what it counts (docs/events.md).

One per counted tracking event, with that event's id behind its own (a redelivered batch raises
it again with the same id): a click a share link took (not a refused self-click or flood), a page
of the brand's site seen through a member's link, a product picked. Ids and kinds only: the
visitor is not in them. The hot list, conversation metrics and gamification subscribe to them.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.events.model import DomainEvent
from shared.tracking.models import Source, TargetKind


class _Counted(DomainEvent):
    member_id: str = Field(alias="memberId")
    source: Source
    target_kind: TargetKind = Field(alias="targetKind")
    code: str | None = None  # the share link's code


class LinkClicked(_Counted):
    """A visitor took a member's share link (counted: no bot, no self-click, no flood)."""

    name: ClassVar[str] = "LinkClicked"

    link_id: str = Field(alias="linkId")
    internal: bool


class PageViewed(_Counted):
    """A page of the brand's site seen by a visitor who came through a member's link."""

    name: ClassVar[str] = "PageViewed"

    path: str | None = None


class ProductPicked(DomainEvent):
    """A product picked: by a referred visitor (through `code`), or by the member importing it (no code)."""

    name: ClassVar[str] = "ProductPicked"

    member_id: str = Field(alias="memberId")
    product_id: str = Field(alias="productId")
    code: str | None = None


class VisitorBrowsed(DomainEvent):
    """A visitor of the brand's site saw a page or picked a product, referred or not (the hot list's feed).

    The visitor is the keyed visitor key only (a brand-keyed hash of the customer ID or of the
    tag's temporary id); the page is a path without query string; no IP, no clear id.
    """

    name: ClassVar[str] = "VisitorBrowsed"

    visitor_key: str = Field(alias="visitorKey")
    customer: bool = False  # the key is of a signed-in client's customer ID
    path: str | None = None
    product_id: str | None = Field(None, alias="productId")  # the product of the page, or picked
    picked: bool = False
