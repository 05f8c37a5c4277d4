"""The commission ledger's shared read models and filter (App: a member's own entries; Manager: the brand's)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from shared.sales import ledger

StateFilter = Annotated[ledger.State | None, Query(description="Only entries in this state")]


class CommissionRead(BaseModel):
    """One ledger entry; `etag` guards a state transition (send it back in `etags`)."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    member_id: str = Field(alias="memberId")
    order_id: str = Field(alias="orderId")
    kind: str
    amount_minor: int = Field(alias="amountMinor")
    currency: str
    state: str
    cause: str
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")
    history: list[dict]
    etag: str | None = None


class CommissionPage(BaseModel):
    """A page of ledger entries, newest first."""

    items: list[CommissionRead]
    continuation: str | None = None


def read_entry(entry: ledger.CommissionEntry, etag: str | None = None) -> CommissionRead:
    return CommissionRead.model_validate(entry.model_dump(by_alias=True) | {"etag": etag})


def page_of(pairs: list[tuple[ledger.CommissionEntry, str]], token: str | None) -> CommissionPage:
    return CommissionPage(items=[read_entry(entry, etag) for entry, etag in pairs], continuation=token)
