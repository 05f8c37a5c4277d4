"""Store vouchers (guide v4, "Contacts collection" 7): how a store purchase is credited to a member.

"They can only be tracked if the contact generates a voucher and presents it to the store assistant
during checkout. To be able to generate the voucher, the contact must already be in the Member's
database (with opt-in)." A member issues a voucher for one of their contacts who is opted in with
them and whose address can receive emails; the contact gets it by email (the code and its QR code,
shared/crm/voucher_email.py); the brand's store platform posts the purchase with the code
(shared/sales/orders.py), which uses the voucher once.

The code is 12 characters of Crockford base32 (60 bits), derived with the brand's key from the
contact and the voucher's rank among its vouchers. It is never stored: the document's id is the
keyed hash of the code, so the store alone gives no code away, and the server can write the email
again from the document. One voucher is open per contact at a time: asking again while it is open
answers it and enqueues its email under the same message id (sent once). Requests racing for the
same contact compute the same rank, hence the same id, and the store's create lets one of them win.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field

from shared.brands.models import Brand
from shared.clock import isoformat
from shared.crm import service as contacts
from shared.crm import sources
from shared.crm.models import Contact
from shared.crm.service import Hasher
from shared.errors import Conflict, DomainError, InvalidInput, NotFound
from shared.identity.models import CamelModel, Member
from shared.ports.store import BrandStore, DocumentConflict, DocumentNotFound, Filter
from shared.ports.store_retry import retrying

CONTAINER = "vouchers"
# Crockford's base32: no I, L, O or U, so a code read aloud or typed at a till is not mistaken.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_LENGTH = 12
_TYPOS = str.maketrans({"I": "1", "L": "1", "O": "0"})
# A till's clock and ours may differ a little: a purchase this much before the issue still counts.
CLOCK_SKEW = timedelta(minutes=10)
_ATTEMPTS = 5
log = logging.getLogger(__name__)

VoucherState = Literal["open", "used", "expired"]


class VoucherNotFound(NotFound):
    code = "voucher-not-found"
    title = "No voucher has this code"


class VoucherUsed(Conflict):
    code = "voucher-used"
    title = "This voucher was already used for another purchase"


class VoucherExpired(DomainError):
    code = "voucher-expired"
    status = 410
    title = "This voucher expired before the purchase"


class Voucher(CamelModel):
    """A stored voucher: whose, for which contact, when it was issued and ends, and the purchase that used it."""

    id: str
    member_id: str
    contact_id: str
    rank: int = Field(ge=1)
    issued_at: datetime
    expires_at: datetime
    # The code's last characters, so that a member can tell their vouchers apart without holding the code.
    code_hint: str
    used_by: str | None = None
    used_at: datetime | None = None

    def state(self, now: datetime) -> VoucherState:
        """Used once a purchase took it; expired once its last day is over; open otherwise."""
        if self.used_by is not None:
            return "used"
        return "expired" if now > self.expires_at else "open"


def normal_code(text: str) -> str:
    """A code as the till typed it, in its one form: upper case, without dashes or spaces, typos mapped."""
    return "".join(text.upper().split()).replace("-", "").translate(_TYPOS)


def display_code(code: str) -> str:
    """The code in groups of four ("7K2Q-M9XD-1B4T"), as the email shows it."""
    return "-".join(code[start:start + 4] for start in range(0, len(code), 4))


def code_of(hasher: Hasher, contact: Contact, rank: int) -> str:
    """The code of the contact's `rank`-th voucher (its creation date keeps a contact re-entered later apart)."""
    digest = int(hasher("customer_id", f"voucher-code:{contact.id}:{isoformat(contact.history.created_at)}:{rank}"),
                 16)
    return "".join(_ALPHABET[(digest >> (5 * index)) & 31] for index in range(_CODE_LENGTH))


def voucher_id(hasher: Hasher, code: str) -> str:
    """The document id of a code: its keyed hash."""
    return "vch-" + hasher("customer_id", f"voucher:{normal_code(code)}")[:40]


def _to_document(voucher: Voucher) -> dict:
    return voucher.model_dump(mode="json", by_alias=True) | {
        "issuedAt": isoformat(voucher.issued_at), "expiresAt": isoformat(voucher.expires_at),
        "usedAt": isoformat(voucher.used_at) if voucher.used_at else None}


def _from_document(doc: dict) -> Voucher:
    return Voucher.model_validate({key: value for key, value in doc.items() if not key.startswith("_")
                                   and key != "brandId"})


def may_have_voucher(*, store: BrandStore, contact: Contact) -> None:
    """Raise ContactNotOptedIn unless the contact is opted in with its member and can receive the voucher's email."""
    sources.store_purchase(contact.consent)
    # The same check as any member's email to a contact: an address, its email status, the black list.
    if not contacts.may_send(store=store, contact=contact, purpose="member_publication"):
        raise sources.ContactNotOptedIn("This contact's address cannot receive the voucher's email "
                                        "(email status or black list)")


def _latest(store: BrandStore, contact_id: str) -> Voucher | None:
    docs = store.query_all(CONTAINER, filters=[Filter("contactId", "=", contact_id)], page_size=200)
    return max((_from_document(doc) for doc in docs), key=lambda voucher: voucher.rank, default=None)


def issue(*, store: BrandStore, brand: Brand, member: Member, contact_id: str, hasher: Hasher,
          now: datetime) -> tuple[Voucher, str, Contact, bool]:
    """The contact's open voucher, its code and the contact: a new voucher (True), or the one still open (False).

    Another member's contact is 404; one not opted in, or whose address cannot receive email, 409.
    """
    contact, _ = contacts.get_own(store=store, member_id=member.id, contact_id=contact_id)
    may_have_voucher(store=store, contact=contact)
    latest = _latest(store, contact.id)
    if latest is not None and latest.state(now) == "open":
        return latest, code_of(hasher, contact, latest.rank), contact, False
    rank = latest.rank + 1 if latest else 1
    code = code_of(hasher, contact, rank)
    voucher = Voucher(id=voucher_id(hasher, code), member_id=member.id, contact_id=contact.id, rank=rank,
                      issued_at=now, expires_at=now + timedelta(days=brand.voucher_validity_days),
                      code_hint=code[-4:])
    try:
        store.create(CONTAINER, _to_document(voucher))
    except DocumentConflict:
        # Issued meanwhile by a request racing this one: the same rank, the same voucher.
        return _from_document(store.get(CONTAINER, voucher.id)), code, contact, False
    log.info("voucher %s issued by member %s for contact %s", voucher.id, member.id, contact.id)
    return voucher, code, contact, True


def page(*, store: BrandStore, member_id: str, contact_id: str | None = None, page_size: int = 50,
         continuation: str | None = None) -> tuple[list[Voucher], str | None]:
    """The member's vouchers (of one contact, if given), newest first."""
    filters = [Filter("memberId", "=", member_id)]
    if contact_id is not None:
        filters.append(Filter("contactId", "=", contact_id))
    result = store.query(CONTAINER, filters=filters, order_by="issuedAt", descending=True, page_size=page_size,
                         continuation=continuation)
    return [_from_document(doc) for doc in result.items], result.continuation


def find(*, store: BrandStore, hasher: Hasher, code: str) -> tuple[Voucher, str]:
    """The voucher of a code and its etag; VoucherNotFound (404) for a code nobody was given."""
    doc = store.find(CONTAINER, voucher_id(hasher, code))
    if doc is None:
        raise VoucherNotFound("No voucher has this code")
    return _from_document(doc), doc["_etag"]


def check(*, store: BrandStore, voucher: Voucher, reference: str | None, placed_at: datetime) -> Contact:
    """The voucher's contact if a purchase `reference` placed at `placed_at` may use it; else the problem.

    Used by another purchase: 409 `voucher-used` (the same purchase again is fine). Placed after its
    last day: 410 `voucher-expired`; before it was issued: 422 on `placedAt`. Its contact erased or no
    longer opted in with the member: 409 `contact-not-opted-in`.
    """
    if voucher.used_by is not None and voucher.used_by != reference:
        raise VoucherUsed("This voucher was already used for another purchase")
    if placed_at > voucher.expires_at:
        raise VoucherExpired(f"This voucher expired on {isoformat(voucher.expires_at)}")
    if placed_at < voucher.issued_at - CLOCK_SKEW:
        raise InvalidInput("The purchase was placed before the voucher was issued",
                           errors=[{"field": "placedAt", "message": "before the voucher was issued"}])
    try:
        contact, _ = contacts.from_document(store.get(contacts.CONTACTS, voucher.contact_id))
    except DocumentNotFound:
        contact = None
    if contact is None or contact.status != "active":
        raise sources.ContactNotOptedIn("The voucher's contact is no longer in the member's CRM")
    sources.store_purchase(contact.consent)
    return contact


def redeem(*, store: BrandStore, hasher: Hasher, code: str, reference: str, placed_at: datetime,
           now: datetime) -> Voucher:
    """Use the voucher for the purchase `reference`, once: the same reference again answers the same voucher."""

    # A lost race: another purchase (or this one, posted twice) came first; read the voucher again.
    def attempt() -> Voucher:
        voucher, etag = find(store=store, hasher=hasher, code=code)
        check(store=store, voucher=voucher, reference=reference, placed_at=placed_at)
        if voucher.used_by == reference:
            return voucher
        used = voucher.model_copy(update={"used_by": reference, "used_at": now})
        store.replace(CONTAINER, _to_document(used), etag=etag)
        log.info("voucher %s used by purchase %s", voucher.id, reference)
        return used

    return retrying(attempt, attempts=_ATTEMPTS, exhausted=Conflict("The voucher changed during the call; try again"))
