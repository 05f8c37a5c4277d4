"""Invitation emails: a member invites their contact; the contact accepts or declines by a single-use link.

Guide v4, "Contacts retention": new contacts receive nothing but an invitation; an unanswered
invitation is sent again once after invitation_pending_days, then the contact counts as opted out
(the retention rules of shared/crm/contact_schedule.py do both). Accept and decline are two
signed single-use links (shared.identity.action_tokens); using one of an invitation's links uses up
the answer: the other then finds a consent that no longer applies (409).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from shared.brands import service as brands
from shared.brands.models import Brand
from shared.crm import consent, contact_footer, contact_journal
from shared.crm import service as contacts
from shared.crm.consent import ConsentEvent, MemberOptIn
from shared.crm.events import consent_changed
from shared.crm.models import Contact, Invitation
from shared.emails.service import enqueue_email
from shared.errors import Conflict, NotFound
from shared.gdpr.journal import Journal
from shared.identity import action_tokens, repository
from shared.identity.models import Member
from shared.ports.store import BrandStore, DocumentNotFound, Filter

if TYPE_CHECKING:
    from shared.ports.platform import Platform

log = logging.getLogger(__name__)

TEMPLATE = "contact_invitation"
Answer = Literal["accept", "decline"]
PURPOSES: dict[str, str] = {"accept": "contact_invitation_accept", "decline": "contact_invitation_decline"}
EVENTS: dict[str, ConsentEvent] = {"accept": ConsentEvent.INVITATION_ACCEPTED,
                                   "decline": ConsentEvent.INVITATION_DECLINED}


class InvitationNotAllowed(Conflict):
    code = "invitation-not-allowed"
    title = "No invitation may be sent to this contact"


class InvitationAlreadySent(Conflict):
    code = "invitation-already-sent"
    title = "An invitation was already sent to this contact; it is sent again automatically if unanswered"


def link_ttl(brand: Brand) -> timedelta:
    """Links work while the invitation is pending: both periods of invitation_pending_days."""
    return timedelta(days=2 * brand.retention.invitation_pending_days)


def message_id(contact_id: str, ordinal: int) -> str:
    """The invitation email's id: the first send and the automatic resend, each enqueued once."""
    return f"contact-invitation:{contact_id}:{ordinal}"


def _link(container: Platform, brand_id: str, answer: str, token: str) -> str:
    # The token rides in the fragment: browsers never send it to servers or in Referer.
    base = container.settings.public_base_url.rstrip("/")
    return f"{base}/app/{brand_id}/invitation/{answer}#token={token}"


def send(*, container: Platform, store: BrandStore, brand: Brand, contact: Contact, now: datetime,
         ordinal: int = 1) -> str:
    """Create the accept and decline links and enqueue the invitation email; the message id (no state change)."""
    ttl = link_ttl(brand)
    links = {answer: _link(container, brand.id, answer,
                           action_tokens.create(store=store, purpose=purpose, subject=contact.id, now=now, ttl=ttl,
                                                data={"ordinal": ordinal}))
             for answer, purpose in PURPOSES.items()}
    footer = contact_footer.data(container.settings, brand_id=brand.id, contact_id=contact.id,
                                 member_id=contact.member_id)
    data: dict[str, Any] = {**brands.email_data(brand),
                            "member_name": repository.member_name(store=store, member_id=contact.member_id) or "",
                            "accept_url": links["accept"], "decline_url": links["decline"],
                            "expires_in_days": ttl.days, "reminder": ordinal > 1, **footer}
    name = " ".join(p for p in (contact.first_name, contact.last_name) if p) or None
    # The provider's events (a bounce, a spam report) then find the contact, as a campaign's do.
    sent = enqueue_email(bus=container.bus, brand_id=brand.id, template=TEMPLATE, to_email=contact.email or "",
                         to_name=name, locale=brand.default_locale, data=data,
                         message_id=message_id(contact.id, ordinal), settings=container.settings,
                         contact_id=contact.id, headers=contact_footer.unsubscribe_headers(footer),
                         event_payload=json.dumps({"brandId": brand.id, "contactId": contact.id}))
    log.info("invitation %d of contact %s enqueued (brand %s)", ordinal, contact.id, brand.id)
    return sent


def invite(*, container: Platform, brand: Brand, member: Member, contact_id: str, now: datetime) -> Contact:
    """The member invites their own contact: email enqueued, consent "invitation sent", pending schedule started."""
    store = container.store.for_brand(brand.id)
    contact, etag = contacts.get_own(store=store, member_id=member.id, contact_id=contact_id)
    if contact.member_opt_in == MemberOptIn.INVITATION_SENT:
        raise InvitationAlreadySent("An invitation is already pending for this contact")
    if not contacts.may_send(store=store, contact=contact, purpose="invitation"):
        raise InvitationNotAllowed("This contact's consent, address or email status does not allow an invitation")
    updated = contact.with_consent(consent.transition(contact.consent, ConsentEvent.INVITATION_SENT, now))
    updated = updated.model_copy(update={"invitation": Invitation(sent_at=now)})
    # Recorded first (etag-guarded: two clicks invite once), then sent under a fixed message id.
    store.replace(contacts.CONTACTS, contacts.to_document(updated, brand), etag=etag)
    container.events.publish(*consent_changed(brand.id, contact, updated, cause=ConsentEvent.INVITATION_SENT, now=now))
    send(container=container, store=store, brand=brand, contact=updated, now=now)
    return updated


def answer(*, container: Platform, brand: Brand, token: str, choice: Answer, now: datetime) -> Contact:
    """The contact accepts or declines by their link: used once, consent moved, schedule follows the new state."""
    store = container.store.for_brand(brand.id)
    used = action_tokens.consume(store=store, purpose=PURPOSES[choice], token=token, now=now)
    try:
        contact, etag = contacts.from_document(store.get(contacts.CONTACTS, used.subject))
    except DocumentNotFound as exc:
        raise NotFound("This invitation no longer exists") from exc
    if contact.status != "active":
        raise NotFound("This invitation no longer exists")
    updated = contact.with_consent(consent.transition(contact.consent, EVENTS[choice], now))
    invitation = contact.invitation or Invitation(sent_at=now)
    updated = updated.model_copy(update={"invitation": invitation.model_copy(update={"answered_at": now})})
    contact_journal.record_opt_outs(journal=container.journal(brand.id), before=contact, after=updated,
                                    now=now)  # a decline
    store.replace(contacts.CONTACTS, contacts.to_document(updated, brand), etag=etag)
    container.events.publish(*consent_changed(brand.id, contact, updated, cause=EVENTS[choice], now=now))
    log.info("invitation of contact %s answered: %s (brand %s)", contact.id, choice, brand.id)
    return updated


def on_member_erased(*, store: BrandStore, journal: Journal, member_id: str, now: datetime,
                     keep_brand_opt_ins: bool = True) -> int:
    """A member left: their contacts are erased, except those the brand keeps (`consent.kept_for_brand`: an
    opt-in for communications; "storage only" and "no opt-in" go); how many.

    `keep_brand_opt_ins=False` when the brand's own data all goes (contract ended, suspension over): every contact.
    """
    erased, continuation = 0, None
    while True:
        # Page by page (a member may have many contacts); erased ones stay in the query, so pages hold.
        page = store.query(contacts.CONTACTS, filters=[Filter("memberId", "=", member_id)], page_size=100,
                           continuation=continuation)
        for doc in page.items:
            contact, etag = contacts.from_document(doc)
            if contact.status != "active" or (keep_brand_opt_ins and consent.kept_for_brand(contact.brand_opt_in)):
                continue
            contact_journal.erase_and_store(store=store, journal=journal, contact=contact, etag=etag, now=now,
                                            rule=contact_journal.MEMBER_ERASED)
            erased += 1
        continuation = page.continuation
        if continuation is None:
            break
    log.info("member %s erased: %d contacts erased", member_id, erased)
    return erased
