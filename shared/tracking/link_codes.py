"""Short codes → links: what the redirect reads, under the platform scope.

`/t/{code}` carries no brand, so a code is looked up in `link_codes` (platform scope, partition
"platform|<first two characters>": codes spread over many partitions, and a point read needs
no query). The document repeats what the redirect and the queue function need of the link, so
the hot path is one point read (cached). The brand's own `links` document stays the one members
and the Manager list and edit; `shared.tracking.links` writes both.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.ports.store import BrandStore
from shared.store_schema import PLATFORM_SCOPE
from shared.tracking.models import Source, TargetKind

CONTAINER = "link_codes"


class LinkCode(BaseModel):
    """One code: its brand, link, member, source, target and status."""

    model_config = ConfigDict(populate_by_name=True)

    code: str = Field(alias="id")
    brand: str = Field(alias="linkBrandId")
    link_id: str = Field(alias="linkId")
    member_id: str = Field(alias="memberId")
    source: Source
    target_kind: TargetKind = Field(alias="targetKind")
    url: str  # the target URL, without the attribution reference
    status: Literal["active", "disabled"] = "active"
    # The catalog product whose page the link lands on (its URL taken from the catalog): the redirect
    # sends it to the App's page of the product while the brand has social commerce, to `url` otherwise.
    product_id: str | None = Field(None, alias="productId")


def partition(code: str) -> str:
    """The partition of a code's document."""
    return f"{PLATFORM_SCOPE}|{code[:2]}"


def to_document(link_code: LinkCode) -> dict:
    """The stored form (the platform handle adds brandId "platform")."""
    return link_code.model_dump(mode="json", by_alias=True) | {"pk": partition(link_code.code)}


def find(*, platform: BrandStore, code: str) -> LinkCode | None:
    """The code's link, or None; `platform` is `store.for_brand(PLATFORM_SCOPE)`."""
    doc = platform.find(CONTAINER, code, pk=partition(code))
    return LinkCode.model_validate(doc) if doc else None
