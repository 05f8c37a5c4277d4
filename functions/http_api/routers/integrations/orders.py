"""Orders and dedicated members from the brand's platform (signed calls): see docs/sales-attribution.md."""

from __future__ import annotations

from enum import Enum

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel, ConfigDict, Field

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep
from functions.http_api.integration_auth import SignedBrand
from functions.http_api.problems import other_success, problem_responses
from shared.crm.views import MemberRef
from shared.sales import dedicated, orders
from shared.sales.models import ID_PATTERN, OrderCreate, OrderRead, OrderUpdate, RefundCreate, StorePurchaseCreate
from shared.store_schema import PLATFORM_SCOPE

router = APIRouter()
_TAGS: list[str | Enum] = ["integrations: orders"]
BASE = "/api/v1/integrations/{brand_id}"
OrderId = Path(pattern=ID_PATTERN)


class DedicatedMemberRead(BaseModel):
    """The member now dedicated to the customer."""

    model_config = ConfigDict(populate_by_name=True)

    member_id: str = Field(alias="memberId")


def _place(data: OrderCreate, call: SignedBrand, container: ContainerDep, response: Response) -> OrderRead:
    brand_id = call.brand.id
    order, created = orders.place(store=container.store.for_brand(brand_id),
                                  platform=container.store.for_brand(PLATFORM_SCOPE), brand=call.brand,
                                  hasher=container.hasher(brand_id), master_key=container.settings.hash_master_key,
                                  events=container.events, data=data, now=container.clock.now())
    if not created:
        response.status_code = status.HTTP_200_OK
    return order


@router.post(f"{BASE}/orders", tags=_TAGS, response_model=OrderRead, status_code=status.HTTP_201_CREATED,
             responses={**problem_responses(401, 404, 409, 410, 422, 503),
                        **other_success(200, OrderRead, "The same order was posted before: the stored one")},
             **access("integration"))
def post_order(data: OrderCreate, call: SignedBrand, container: ContainerDep, response: Response) -> OrderRead:
    """Record and attribute an order (201); the same order again answers the stored one (200).

    With `voucherCode` (channel `in_store`), the voucher is used as by `POST .../store-purchases`.
    """
    return _place(data, call, container, response)


@router.post(f"{BASE}/store-purchases", tags=_TAGS, response_model=OrderRead, status_code=status.HTTP_201_CREATED,
             responses={**problem_responses(401, 404, 409, 410, 422, 503),
                        **other_success(200, OrderRead, "The same purchase was posted before: the stored one")},
             **access("integration"))
def post_store_purchase(data: StorePurchaseCreate, call: SignedBrand, container: ContainerDep,
                        response: Response) -> OrderRead:
    """Record a store purchase made with a member's voucher (201), attributed to its member (reason `voucher`).

    The voucher is used once: the same purchase again answers the stored one (200); another purchase
    with it is 409 `voucher-used`. An unknown code is 404 `voucher-not-found`, a purchase placed after
    the voucher's last day 410 `voucher-expired`, a contact no longer opted in 409 `contact-not-opted-in`.
    """
    return _place(data.as_order(), call, container, response)


@router.get(f"{BASE}/orders/{{order_id}}", tags=_TAGS, response_model=OrderRead,
            responses=problem_responses(401, 404), **access("integration"))
def get_order(call: SignedBrand, container: ContainerDep, order_id: str = OrderId) -> OrderRead:
    """An order with its attribution (member, reason, explanation) and the commission due."""
    return orders.to_read(orders.get(store=container.store.for_brand(call.brand.id), order_id=order_id)[0])


@router.put(f"{BASE}/orders/{{order_id}}", tags=_TAGS, response_model=OrderRead,
            responses=problem_responses(401, 404, 409, 422), **access("integration"))
def update_order(data: OrderUpdate, call: SignedBrand, container: ContainerDep,
                 order_id: str = OrderId) -> OrderRead:
    """Change an order's amount and lines; sales and commission follow."""
    return orders.update(store=container.store.for_brand(call.brand.id), brand=call.brand, events=container.events,
                         order_id=order_id, data=data, now=container.clock.now())


@router.post(f"{BASE}/orders/{{order_id}}/refunds", tags=_TAGS, response_model=OrderRead,
             responses=problem_responses(401, 404, 409, 422), **access("integration"))
def refund_order(data: RefundCreate, call: SignedBrand, container: ContainerDep,
                 order_id: str = OrderId) -> OrderRead:
    """Refund part or all of an order, once per refund id; the commission shrinks in proportion."""
    return orders.refund(store=container.store.for_brand(call.brand.id), brand=call.brand, events=container.events,
                         order_id=order_id, data=data, now=container.clock.now())


@router.post(f"{BASE}/orders/{{order_id}}/cancel", tags=_TAGS, response_model=OrderRead,
             responses=problem_responses(401, 404, 409), **access("integration"))
def cancel_order(call: SignedBrand, container: ContainerDep, order_id: str = OrderId) -> OrderRead:
    """Cancel an order: its sales and commission are reversed (a paid commission is clawed back)."""
    return orders.cancel(store=container.store.for_brand(call.brand.id), brand=call.brand, events=container.events,
                         order_id=order_id, now=container.clock.now())


@router.put(f"{BASE}/customers/{{customer_id}}/dedicated-member", tags=_TAGS, response_model=DedicatedMemberRead,
            responses=problem_responses(401, 404, 409, 422), **access("integration"))
def put_dedicated_member(customer_id: str, data: MemberRef, call: SignedBrand,
                         container: ContainerDep) -> DedicatedMemberRead:
    """Assign the customer (the brand's customer ID) a dedicated member: an active member by id or SSO subject."""
    brand_id = call.brand.id
    member_id = dedicated.assign(store=container.store.for_brand(brand_id), hasher=container.hasher(brand_id),
                                 customer_id=customer_id, ref=data, now=container.clock.now())
    return DedicatedMemberRead(member_id=member_id)


@router.delete(f"{BASE}/customers/{{customer_id}}/dedicated-member", tags=_TAGS,
               status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(401), **access("integration"))
def delete_dedicated_member(customer_id: str, call: SignedBrand, container: ContainerDep) -> Response:
    """The customer no longer has a dedicated member."""
    brand_id = call.brand.id
    dedicated.clear(store=container.store.for_brand(brand_id), hasher=container.hasher(brand_id),
                    customer_id=customer_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
