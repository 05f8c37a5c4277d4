"""What brand platforms send about orders, and what an order document keeps (no clear customer id)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.crm.views import MemberRef, OrderCustomer
from shared.tracking.models import Channel

# Order and refund ids end up as document ids and in paths: a conservative alphabet.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"
MAX_AMOUNT_MINOR = 10**12


class _Strict(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class OrderLine(_Strict):
    """One product line: its SKU, optional category (commission rules may target it), units and amount."""

    sku: str = Field(min_length=1, max_length=100)
    category: str | None = Field(None, min_length=1, max_length=80)
    quantity: int = Field(ge=1, le=1_000_000)
    amount_minor: int = Field(alias="amountMinor", ge=0, le=MAX_AMOUNT_MINOR)


class _Purchase(_Strict):
    """When, in which currency and for how much: what every sale a platform posts says."""

    placed_at: datetime = Field(alias="placedAt")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    amount_minor: int = Field(alias="amountMinor", ge=0, le=MAX_AMOUNT_MINOR)
    lines: list[OrderLine] = Field(min_length=1, max_length=500)


class OrderCreate(_Purchase):
    """An order as the brand platform posts it (online, in store with a voucher, or sold by a vendor)."""

    order_id: str = Field(alias="orderId", pattern=ID_PATTERN)
    channel: Channel
    attribution_ref: str | None = Field(None, alias="attributionRef", max_length=200)
    # The brand's customer ID and the site tag's temporary id: hashed on arrival, never stored clear.
    customer_key: str | None = Field(None, alias="customerKey", min_length=1, max_length=200)
    visitor_id: str | None = Field(None, alias="visitorId", min_length=1, max_length=200)
    voucher_code: str | None = Field(None, alias="voucherCode", min_length=1, max_length=100)
    vendor: MemberRef | None = None
    # The brand's store of an in-store order: the customer's home store for the `home_store` rule.
    store_id: str | None = Field(None, alias="storeId", pattern=ID_PATTERN)
    customer: OrderCustomer | None = None
    brand_opt_in: bool | None = Field(None, alias="brandOptIn")


class StorePurchaseCreate(_Purchase):
    """A purchase at a store's till with a member's voucher, as the store platform posts it.

    It is recorded as the order `purchaseId` of channel `in_store` (the same id space as orders).
    """

    purchase_id: str = Field(alias="purchaseId", pattern=ID_PATTERN)
    voucher_code: str = Field(alias="voucherCode", min_length=1, max_length=100,
                              description="The code of the voucher, as typed or scanned (dashes and case ignored)")

    def as_order(self) -> OrderCreate:
        """The order this purchase is."""
        return OrderCreate(order_id=self.purchase_id, channel="in_store", voucher_code=self.voucher_code,
                           placed_at=self.placed_at, currency=self.currency, amount_minor=self.amount_minor,
                           lines=self.lines)


class OrderUpdate(_Strict):
    """A changed order: the new amount and lines (attribution, currency and date stay)."""

    amount_minor: int = Field(alias="amountMinor", ge=0, le=MAX_AMOUNT_MINOR)
    lines: list[OrderLine] = Field(min_length=1, max_length=500)


class RefundCreate(_Strict):
    """A refund of part or all of an order, once per refund id."""

    refund_id: str = Field(alias="refundId", pattern=ID_PATTERN)
    amount_minor: int = Field(alias="amountMinor", gt=0, le=MAX_AMOUNT_MINOR)
    lines: list[OrderLine] | None = Field(None, max_length=500)


class AttributionRead(BaseModel):
    """Who an order is attributed to, and why (reason code and the facts that decided)."""

    model_config = ConfigDict(populate_by_name=True)

    member_id: str | None = Field(alias="memberId")
    reason: str
    source: str
    target_kind: str = Field(alias="targetKind")
    explanation: dict


class _OrderFields(BaseModel):
    """What every reader of an order sees."""

    model_config = ConfigDict(populate_by_name=True)

    order_id: str = Field(alias="orderId")
    channel: str
    status: str
    placed_at: datetime = Field(alias="placedAt")
    currency: str
    amount_minor: int = Field(alias="amountMinor")
    refunded_minor: int = Field(alias="refundedMinor")
    lines: list[dict]
    attribution: AttributionRead
    commission_minor: int = Field(alias="commissionMinor", description="Commission currently due")


class OrderRead(_OrderFields):
    """An order as the brand platform and the Manager read it back."""

    contact_id: str | None = Field(None, alias="contactId")
    contact_refused: str | None = Field(None, alias="contactRefused",
                                        description="Problem type when the CRM refused the contact")


class MemberOrderRead(_OrderFields):
    """An order attributed to the calling member: no customer key, no other member, no CRM refusal detail."""

    contact_id: str | None = Field(None, alias="contactId", description="The member's own contact, when created")
