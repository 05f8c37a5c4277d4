"""Outbound in the App: the member's dedicated customers, and reaching one in the chat."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from functions.http_api.access import CurrentMember, access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common.conversations import Continuation, ConversationRef, PageSize
from functions.http_api.routers.common.directory import open_brand
from shared.conversations import outbound
from shared.sales import dedicated

router = APIRouter(prefix="/api/v1/app/{brand_id}/dedicated-customers", tags=["app: conversations"])


class DedicatedCustomer(BaseModel):
    """A customer dedicated to the member: an opaque reference (no customer ID, name or address)."""

    model_config = ConfigDict(populate_by_name=True)

    customer_ref: str = Field(alias="customerRef")
    source: dedicated.Source
    assigned_at: datetime = Field(alias="assignedAt")
    store_id: str | None = Field(None, alias="storeId")
    conversation_id: str | None = Field(None, alias="conversationId", description="the conversation to resume")
    last_message_at: datetime | None = Field(None, alias="lastMessageAt")
    reachable: bool = Field(description="the member can write to them in the chat (resumed or started)")


class DedicatedCustomers(BaseModel):
    items: list[DedicatedCustomer]
    continuation: str | None = None


@router.get("", response_model=DedicatedCustomers, responses=problem_responses(401, 404, 422), **access("member"))
def list_dedicated_customers(brand_id: str, member: CurrentMember, container: ContainerDep, page_size: PageSize = 20,
                             continuation: Continuation = None) -> DedicatedCustomers:
    """The customers dedicated to the member, each with the conversation to resume, if any."""
    open_brand(container, brand_id)
    items, more = outbound.customers(store=container.store.for_brand(brand_id), member=member, page_size=page_size,
                                     continuation=continuation)
    return DedicatedCustomers(items=[DedicatedCustomer.model_validate(item) for item in items], continuation=more)


@router.post("/{customer_ref}/conversation", response_model=ConversationRef,
             responses=problem_responses(401, 404, 409), **access("member"))
def reach_dedicated_customer(brand_id: str, customer_ref: str, member: CurrentMember,
                             container: ContainerDep) -> ConversationRef:
    """The conversation to write to a dedicated customer in: resumed, or started (kind `outbound`).

    404 for a customer who is not the member's; 409 `not-reachable` for one never signed in the widget.
    """
    open_brand(container, brand_id)
    conversation = outbound.reach(store=container.store.for_brand(brand_id), events=container.events, member=member,
                                  customer_ref=customer_ref, now=container.clock.now())
    return ConversationRef(conversation_id=conversation["id"])
