"""A contact as a data subject: every contact of the brand with one email address, across members.

One person can be the contact of several members; their rights (GDPR articles 15-21) apply to all
of those records at once, so the subject is the keyed hash of the address (the register's and the
black list's name for them), never one contact id. What the requests do to them:
- access and portability: one JSON document with every such contact record, the members' notes and
  tags included (data about the person, which the guide lets members write), which member holds
  each record (the source of data not collected from the person: article 15(1)(g)), the black-list
  reasons, the restriction and the person's own GDPR requests;
- rectification: first and last name, city and postal code, set on every active record;
- erasure: every record hashed the guide's way and journalled (shared.crm.contact_journal), the
  restriction with it;
- objection: out of every member (global opt-out, the address blacklisted) and out of the brand's
  communications (brand opt-in back to "no opt-in").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from typing import Any

from pydantic import ConfigDict, Field

from shared.brands.models import Brand
from shared.clock import isoformat
from shared.crm import blacklist, contact_journal
from shared.crm import service as contacts
from shared.crm.models import Contact
from shared.errors import Conflict
from shared.events.model import Publisher
from shared.gdpr import restriction
from shared.gdpr.journal import Journal
from shared.identity import repository
from shared.identity.models import CamelModel
from shared.ports.store import BrandStore, Filter
from shared.ports.store_retry import retrying

log = logging.getLogger(__name__)

FORMAT = "popsell.contact-data-export/1"
_ATTEMPTS = 5
# Store bookkeeping and derived projections: not information about the person.
_INTERNAL = ("brandId", "retention", "brandVisible")


class ContactAddressChange(CamelModel):
    """The parts of a contact's address the person may correct (the street is not stored at all)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    city: str | None = Field(None, max_length=120)
    postal_code: str | None = Field(None, max_length=20)


class ContactRectification(CamelModel):
    """What a contact corrects about themselves, on every record members hold (only the fields sent change)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    first_name: str | None = Field(None, max_length=80)
    last_name: str | None = Field(None, max_length=80)
    address: ContactAddressChange | None = None


def _records(store: BrandStore, email_hash: str) -> Iterator[dict[str, Any]]:
    continuation = None
    while True:
        page = store.query(contacts.CONTACTS, filters=[Filter("emailHash", "=", email_hash)], page_size=200,
                           continuation=continuation)
        yield from page.items
        continuation = page.continuation
        if continuation is None:
            return


def _active(store: BrandStore, email_hash: str) -> Iterator[Contact]:
    for doc in _records(store, email_hash):
        contact, _ = contacts.from_document(doc)
        if contact.status == "active":
            yield contact


def exists(*, store: BrandStore, email_hash: str) -> bool:
    """Whether any member of the brand holds an active contact with this address."""
    return next(_active(store, email_hash), None) is not None


def address(*, store: BrandStore, email_hash: str) -> str | None:
    """An address to write to about the person's own request (any active record's), or None."""
    return next((contact.email for contact in _active(store, email_hash) if contacts.has_address(contact)), None)


def export(*, store: BrandStore, email_hash: str, requests: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """Everything the brand's members hold about the person behind this address, as a JSON-ready dict."""
    records = []
    for doc in _records(store, email_hash):
        record = {key: value for key, value in doc.items() if key not in _INTERNAL and not key.startswith("_")}
        held_by = doc.get("memberId", "")
        record["heldBy"] = {"memberId": held_by, "name": repository.member_name(store=store, member_id=held_by)}
        records.append(record)
    held = restriction.contact_restriction(store=store, email_hash=email_hash)
    return {
        "format": FORMAT,
        "generatedAt": isoformat(now),
        "brandId": store.brand_id,
        "subject": {"kind": "contact", "emailHash": email_hash},
        "contacts": records,
        "blacklist": blacklist.reasons(store=store, email_hash=email_hash),
        "restriction": held.model_dump(mode="json", by_alias=True) if held else None,
        "gdprRequests": requests,
    }


def _rewrite(store: BrandStore, email_hash: str, apply: Callable[[Contact, str | None], bool]) -> int:
    """Apply `apply` to every active record (it writes with the etag read and says whether it changed
    anything; reloaded when another writer won); how many records changed."""

    def attempt(contact_id: str) -> bool:
        contact, etag = contacts.from_document(store.get(contacts.CONTACTS, contact_id))
        return contact.status == "active" and apply(contact, etag)

    return sum(retrying(partial(attempt, doc["id"]), attempts=_ATTEMPTS,
                        exhausted=Conflict("A contact record kept changing; try again"))
               for doc in list(_records(store, email_hash)))


def rectify(*, store: BrandStore, brand: Brand, email_hash: str, changes: ContactRectification, now: datetime) -> int:
    """Set the corrected fields on every active record of the person; how many records changed."""
    fields = changes.model_dump(exclude_unset=True, exclude={"address"})
    address_fields = changes.address.model_dump(exclude_unset=True) if changes.address else {}

    def apply(contact: Contact, etag: str | None) -> bool:
        updated = contact.model_copy(update={
            **fields, "address": contact.address.model_copy(update=address_fields),
        })
        if updated == contact:
            return False
        updated = updated.model_copy(update={"history": contact.history.model_copy(
            update={"modified_by": "contact", "modified_at": now})})
        store.replace(contacts.CONTACTS, contacts.to_document(updated, brand), etag=etag)
        return True

    return _rewrite(store, email_hash, apply)


def erase(*, store: BrandStore, journal: Journal, email_hash: str, now: datetime, by: str) -> int:
    """Erase (hash) every record of the person, journalled, and forget their restriction; how many were erased."""
    def apply(contact: Contact, etag: str | None) -> bool:
        contact_journal.erase_and_store(store=store, journal=journal, contact=contact, etag=etag, now=now, rule=by)
        return True

    erased = _rewrite(store, email_hash, apply)
    restriction.lift(store=store, journal=journal, subject_kind="contact", subject_id=email_hash,
                     now=now)  # nothing to keep
    log.info("contact erasure on brand %s: %d records erased", store.brand_id, erased)
    return erased


def object_to_processing(*, store: BrandStore, journal: Journal, events: Publisher, brand: Brand, email_hash: str,
                         now: datetime) -> int:
    """Opt the person out of every member and of the brand's communications; how many records there were."""
    count = 0
    for contact in list(_active(store, email_hash)):
        contact_journal.global_opt_out(store=store, journal=journal, events=events, brand=brand,
                                       contact_id=contact.id, now=now, brand_too=True)
        count += 1
    # Blacklisted even without an active record left: no member can enter the address again.
    blacklist.add(store=store, email_hash=email_hash, reason=blacklist.BlacklistReason.GLOBAL_OPT_OUT, now=now,
                  journal=journal)
    return count
