"""App API: a member's store vouchers for their opted-in contacts (docs/crm-vouchers.md)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from functions.http_api.access import CurrentMember, access
from functions.http_api.deps import ContainerDep
from functions.http_api.paging import PagingQuery
from functions.http_api.problems import other_success, problem_responses
from shared.brands import service as brands
from shared.crm import service as contacts
from shared.crm import voucher_email, vouchers
from shared.identity.models import CamelModel

router = APIRouter(prefix="/api/v1/app/{brand_id}", tags=["app: vouchers"])


class VoucherRead(CamelModel):
    """A voucher as its member sees it: never the code itself, which only the contact receives."""

    id: str
    contact_id: str
    state: vouchers.VoucherState
    issued_at: datetime
    expires_at: datetime
    code_hint: str = Field(description="The code's last four characters")
    used_at: datetime | None = None
    purchase_id: str | None = Field(None, description="The store purchase (order id) that used it")


class VoucherPage(BaseModel):
    """A page of vouchers, newest first."""

    items: list[VoucherRead]
    continuation: str | None = None


def _read(voucher: vouchers.Voucher, now: datetime) -> VoucherRead:
    return VoucherRead(id=voucher.id, contact_id=voucher.contact_id, state=voucher.state(now),
                       issued_at=voucher.issued_at, expires_at=voucher.expires_at, code_hint=voucher.code_hint,
                       used_at=voucher.used_at, purchase_id=voucher.used_by)


def _page(items: list[vouchers.Voucher], token: str | None, now: datetime) -> VoucherPage:
    return VoucherPage(items=[_read(voucher, now) for voucher in items], continuation=token)


@router.post("/contacts/{contact_id}/vouchers", response_model=VoucherRead, status_code=status.HTTP_201_CREATED,
             responses={**problem_responses(401, 404, 409),
                        **other_success(200, VoucherRead, "The voucher still open (its email is not sent twice)")},
             **access("member"))
def issue_voucher(brand_id: str, contact_id: str, member: CurrentMember, container: ContainerDep,
                  response: Response) -> VoucherRead:
    """Email one of your opted-in contacts a store voucher (its code and QR code); one open voucher per contact.

    409 `contact-not-opted-in` unless the contact is opted in with you and their address can receive email.
    """
    brand = brands.get(store=container.store, brand_id=brand_id)
    now = container.clock.now()
    voucher, created = voucher_email.issue_and_send(container=container, brand=brand, member=member,
                                                    contact_id=contact_id, now=now)
    if not created:
        response.status_code = status.HTTP_200_OK
    return _read(voucher, now)


@router.get("/contacts/{contact_id}/vouchers", response_model=VoucherPage,
            responses=problem_responses(401, 404, 422), **access("member"))
def contact_vouchers(brand_id: str, contact_id: str, member: CurrentMember, container: ContainerDep,
                     paging: PagingQuery) -> VoucherPage:
    """The vouchers you issued for one of your contacts, newest first."""
    store = container.store.for_brand(brand_id)
    contacts.get_own(store=store, member_id=member.id, contact_id=contact_id)
    items, token = vouchers.page(store=store, member_id=member.id, contact_id=contact_id, page_size=paging.page_size,
                                 continuation=paging.continuation)
    return _page(items, token, container.clock.now())


@router.get("/vouchers", response_model=VoucherPage, responses=problem_responses(401, 404, 422), **access("member"))
def my_vouchers(brand_id: str, member: CurrentMember, container: ContainerDep, paging: PagingQuery) -> VoucherPage:
    """Every voucher you issued, newest first: open, used (with the purchase) or expired."""
    items, token = vouchers.page(store=container.store.for_brand(brand_id), member_id=member.id,
                                 page_size=paging.page_size,
                                 continuation=paging.continuation)
    return _page(items, token, container.clock.now())
