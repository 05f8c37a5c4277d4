"""What a backup restore must not undo on a contact: its erasure and its opt-outs, journalled first.

Every erasure of a contact goes through `erase_and_store` (the member deletes it, the brand's sync
deletes it, its member is erased, a retention timer hashes it, the person asks): the erasure is
journalled (shared.gdpr.journal, subject type `contact`), then the erased contact is written with
the etag read. Every writer of an opt-out calls `record_opt_outs(journal, before, after, now)`
before writing: a declined invitation, an opt-out from an email, an unanswered invitation, a global
opt-out (member side) and a brand opt-out are journalled (subject type `contact_opt_out`), so a
restore never brings a contact back as opted in. Opt-ins are not journalled: one given after the
backup is lost with the restore like any other write, which errs on the person's side.

The erased contact's `history.modifiedBy` is the rule that erased it (never a person's id: the
member is the contact's `memberId` already), so the journal holds everything the replay needs to
write the same document again: `replay_erasure` and `replay_opt_out` apply an entry as of its time.
"""

from __future__ import annotations

import logging
from datetime import datetime

from shared.brands.models import Brand
from shared.clock import parse_instant
from shared.crm import blacklist, consent
from shared.crm import service as contacts
from shared.crm.consent import BrandOptIn, ConsentEvent, Meaning, MemberOptIn
from shared.crm.events import consent_changed
from shared.crm.models import Contact
from shared.events.model import Publisher
from shared.gdpr.journal import Journal, Outcome
from shared.identity.models import Member
from shared.ports.store import BrandStore, Document

log = logging.getLogger(__name__)

# Erasure rules of contacts (the retention timers use "retention:<rule name>").
DELETED_BY_MEMBER = "contact_deleted_by_member"
DELETED_BY_BRAND_SYNC = "brand_sync_deleted"
MEMBER_ERASED = "member_erased"


def erase_and_store(*, store: BrandStore, journal: Journal, contact: Contact, etag: str | None, now: datetime,
                    rule: str) -> Document:
    """Erase a contact the guide's way and store it with the etag read, journalled first; the stored document.

    An erased contact is left as it is (nothing written, nothing journalled). A contact changed
    since it was read raises EtagMismatch, after the journal entry: the caller reads it again (or
    a replay completes the erasure), as for any write it loses.
    """
    if contact.status == "erased":
        return contacts.erased_document(contact)
    journal.record(subject_type="contact", subject_id=contact.id, rule=rule, now=now)
    return store.replace(contacts.CONTACTS, contacts.erased_document(contacts.erase(contact, now, rule)), etag=etag)


def _opt_outs(before: Contact, after: Contact) -> list[tuple[str, str, datetime | None]]:
    """(side, new value, its date) of each opt-out `after` holds that `before` did not."""
    found = []
    if after.member_opt_in != before.member_opt_in and consent.member_meaning(after.member_opt_in) == Meaning.OPTED_OUT:
        found.append(("member", after.member_opt_in.value, after.member_opt_in_at))
    if after.brand_opt_in != before.brand_opt_in and after.brand_opt_in == BrandOptIn.NO_OPT_IN:
        found.append(("brand", after.brand_opt_in.value, after.brand_opt_in_at))
    return found


def record_opt_outs(*, journal: Journal, before: Contact, after: Contact, now: datetime) -> None:
    """Journal the opt-outs of a change of consent, before `after` is written (nothing when there is none)."""
    for side, value, effective in _opt_outs(before, after):
        # The time is part of the id: a brand opt-out can come again after a new brand opt-in.
        journal.record(subject_type="contact_opt_out", subject_id=after.id, rule=f"{side}:{value}", now=now,
                       qualifier=f"{side}-{value}-{now.strftime('%Y%m%dT%H%M%SZ')}", effective_at=effective)


def replay_erasure(journal: Journal, store: BrandStore, brand: Brand, entry: dict, dry_run: bool) -> Outcome:
    """Erase again a contact the journal names, as of the entry's time (journal replay)."""
    doc = store.find(contacts.CONTACTS, entry["subjectId"])
    if doc is None:
        return "missing"  # the backup predates the contact
    contact, etag = contacts.from_document(doc)
    if contact.status == "erased":
        return "already"
    if not dry_run:
        erase_and_store(store=store, journal=journal, contact=contact, etag=etag, now=parse_instant(entry["at"]),
                        rule=entry["rule"])
    return "again"


def replay_opt_out(journal: Journal, store: BrandStore, brand: Brand, entry: dict, dry_run: bool) -> Outcome:
    """Opt a contact out again as the journal says, with the date the opt-out carried (journal replay)."""
    doc = store.find(contacts.CONTACTS, entry["subjectId"])
    if doc is None:
        return "missing"
    contact, etag = contacts.from_document(doc)
    side, value = entry["rule"].split(":", 1)
    at = parse_instant(entry.get("effectiveAt") or entry["at"])
    state = contact.consent
    if side == "member":
        # A global opt-out is final: nothing after it moves the member side (the journal never holds such a move).
        if state.member != MemberOptIn.GLOBAL_OPT_OUT:
            state = consent.with_member(state, MemberOptIn(value), at)
    else:
        state = consent.with_brand(state, BrandOptIn(value), at)
    if state == contact.consent:
        return "already"
    if not dry_run:
        store.replace(contacts.CONTACTS, contacts.to_document(contact.with_consent(state), brand), etag=etag)
    return "again"


# --- the member's and the contact's own removals, journalled -------------------------------------


def delete_own(*, store: BrandStore, journal: Journal, member: Member, contact_id: str, now: datetime) -> None:
    """The member deletes their contact: erased, its hashes kept for opt-out checks and statistics."""
    contact, etag = contacts.get_own(store=store, member_id=member.id, contact_id=contact_id)
    erase_and_store(store=store, journal=journal, contact=contact, etag=etag, now=now,
                                    rule=DELETED_BY_MEMBER)
    log.info("contact %s erased by member %s", contact.id, member.id)


def global_opt_out(*, store: BrandStore, journal: Journal, events: Publisher, brand: Brand, contact_id: str,
                   now: datetime, brand_too: bool = False) -> Contact:
    """The contact opts out of all members of the brand: this contact marked, the hash blacklisted.

    `brand_too`: out of the brand's communications as well (an objection, GDPR article 21).
    """
    contact, etag = contacts.load(store=store, contact_id=contact_id)
    updated = contact.with_consent(consent.transition(contact.consent, ConsentEvent.GLOBAL_OPT_OUT, now))
    if brand_too:
        updated = updated.with_consent(consent.transition(updated.consent, ConsentEvent.BRAND_OPT_OUT, now))
    if contact.email_hash:
        blacklist.add(store=store, email_hash=contact.email_hash, reason=blacklist.BlacklistReason.GLOBAL_OPT_OUT,
                      now=now, journal=journal)
    if updated != contact:
        record_opt_outs(journal=journal, before=contact, after=updated, now=now)
        store.replace(contacts.CONTACTS, contacts.to_document(updated, brand), etag=etag)
        events.publish(*consent_changed(brand.id, contact, updated, cause=ConsentEvent.GLOBAL_OPT_OUT, now=now))
    return updated
