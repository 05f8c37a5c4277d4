"""What the GDPR request routes of the App, the widget, the Manager and the contacts' pages share."""

from __future__ import annotations

from pydantic import BaseModel, Field

from popsell.bootstrap import Container
from shared.brands import service as brands
from shared.gdpr.requests import RequestRead, Rights


class RequestPage(BaseModel):
    items: list[RequestRead]
    continuation: str | None = None


class ErasureConfirmation(BaseModel):
    token: str = Field(min_length=1, max_length=200)


def rights_of(container: Container, brand_id: str) -> Rights:
    """What processing a request of this brand needs, from the composition root."""
    return Rights(store=container.store.for_brand(brand_id), blobs=container.blobs, hasher=container.hasher(brand_id),
                  bus=container.bus, events=container.events, settings=container.settings,
                  brand=brands.get(store=container.store, brand_id=brand_id))
