"""The store voucher's email: the code to show at the till and its QR code, sent once per voucher.

The QR code is a PNG carried in the email (shown inline by `cid:`), so the email works offline at
the till and no image server learns who opened it. The message id is the voucher's, so the email
is enqueued again, harmlessly, every time the member asks for the same open voucher (the email
pipeline sends one message id once): that is how a crash between issuing and sending is repaired.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import TYPE_CHECKING

from shared.brands import service as brands
from shared.brands.models import Brand
from shared.crm import contact_footer, vouchers
from shared.crm.models import Contact
from shared.crm.vouchers import Voucher, display_code
from shared.emails.models import InlineImageRequested
from shared.emails.service import enqueue_email
from shared.identity.models import Member
from shared.tracking import qr

if TYPE_CHECKING:
    from shared.ports.platform import Platform

TEMPLATE = "store_voucher"
QR_CONTENT_ID = "voucher-qr"
# Modules of 6 pixels: a 12-character code is a small version, about 200 px wide, readable by any till scanner.
_QR_SCALE = 6


def message_id(voucher: Voucher) -> str:
    """The email's id: one email per voucher, however often it is enqueued."""
    return f"store-voucher:{voucher.id}"


def qr_image(code: str) -> InlineImageRequested:
    """The QR code of a voucher code, as the email's inline PNG."""
    png = qr.png(display_code(code), scale=_QR_SCALE)
    return InlineImageRequested(content_id=QR_CONTENT_ID, content_type=qr.PNG, filename="voucher.png",
                                base64_content=base64.b64encode(png).decode())


def send(*, container: Platform, brand: Brand, member: Member, contact: Contact, voucher: Voucher,
         code: str) -> str:
    """Enqueue the voucher's email to its contact; the message id."""
    member_name = " ".join(part for part in (member.first_name, member.last_name) if part)
    # A member's email to their contact: the rights page and the one-click unsubscribe, as campaigns carry.
    footer = contact_footer.data(container.settings, brand_id=brand.id, contact_id=contact.id, member_id=member.id)
    data = {**brands.email_data(brand), **footer, "member_name": member_name, "code": display_code(code),
            "expires_at": voucher.expires_at.isoformat(), "qr_content_id": QR_CONTENT_ID}
    name = " ".join(part for part in (contact.first_name, contact.last_name) if part) or None
    # The provider's events (a bounce, a spam report) then find the contact, as an invitation's do.
    return enqueue_email(bus=container.bus, brand_id=brand.id, template=TEMPLATE, to_email=contact.email or "",
                         to_name=name, locale=brand.default_locale, data=data, message_id=message_id(voucher),
                         settings=container.settings, contact_id=contact.id, inline_images=(qr_image(code),),
                         headers=contact_footer.unsubscribe_headers(footer),
                         event_payload=json.dumps({"brandId": brand.id, "contactId": contact.id}))


def issue_and_send(*, container: Platform, brand: Brand, member: Member, contact_id: str,
                   now: datetime) -> tuple[Voucher, bool]:
    """The member's voucher for their contact, its email enqueued (again, harmlessly, for the one still open)."""
    store = container.store.for_brand(brand.id)
    voucher, code, contact, created = vouchers.issue(store=store, brand=brand, member=member, contact_id=contact_id,
                                                     hasher=container.hasher(brand.id), now=now)
    send(container=container, brand=brand, member=member, contact=contact, voucher=voucher, code=code)
    return voucher, created
