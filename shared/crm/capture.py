"""Contacts who leave their address through a member's blog pop-in or form, then confirm it by email.

Guide v4, "Contacts retention": "Contacts who received an email to confirm their email address are
stored in the database, but not visible to ambassadors. If they never confirm their address, then
data is deleted within 15 days. Same parameter is used as in previous case". v3, "Contacts
collection" 5 (blog pop-in) and 6 (internal form, "similar to case 5"); the external form takes the
same path (docs/decisions/0023-contact-capture-forms.md, docs/crm-capture-forms.md).

`submit` (the widget's POST) keeps bots and floods out: a bot's user agent or a filled honeypot get
the usual answer and nothing happens; too many submissions from one IP or for one address answer
429. The form must have shown the brand's privacy policy. The answer is the same 202 whether the
address was new, known or blacklisted. For a new or still pending address the confirmation email is
enqueued *before* the pending contact is written, under one message id per member, address and UTC
day: parallel submissions send one email, and a crash in between leaves an email whose link waits
for the contact (the next submission writes it, without a second email that day), never a pending
contact that no email can confirm.

`confirm` (the link): the submission's choices, carried by its single-use token, become the guide's
opt-in values for the form (`sources.confirmed`); they are written before the token is used up, so a
crash in between leaves a link that still works.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ConfigDict, Field, ValidationError

from shared.brands import service as brands
from shared.brands.models import Brand
from shared.brands.service import invalid_input
from shared.clock import isoformat
from shared.crm import blacklist, contact_footer, contact_schedule, sources
from shared.crm import service as contacts
from shared.crm.consent import ConsentEvent
from shared.crm.events import consent_changed
from shared.crm.models import Capture, Contact, ContactSource, EmailStatus
from shared.crm.views import ContactCreate
from shared.emails.address import EmailAddress
from shared.emails.service import prepare_email, send_prepared
from shared.errors import Conflict, InvalidInput, NotFound
from shared.events.model import Publisher
from shared.identity import action_tokens, repository, throttle
from shared.identity.models import CamelModel, Member
from shared.ports.store import BrandStore
from shared.ports.store_retry import retrying
from shared.privacy.logging import Id
from shared.tracking.bots import is_bot

if TYPE_CHECKING:
    from shared.ports.platform import Platform

log = logging.getLogger(__name__)

FormKind = Literal["blog_popin", "internal_form", "external_form"]
PURPOSE = "contact_capture_confirmation"
TEMPLATE = "contact_confirmation"
# Brand-wide per address: a person fills a form a few times an hour at most; a script submitting
# someone's address again and again is stopped (and never sends more than one email a day anyway).
ADDRESS_POLICY = throttle.ThrottlePolicy(max_failures=5, window=timedelta(hours=1), lockout=timedelta(hours=1))
_CONFIRM_ATTEMPTS = 5


class CaptureSubmission(CamelModel):
    """What a pop-in or form posts: who the person is, the boxes they ticked, what the form showed them."""

    # A misspelt box (`memberOptin`) must not pass as unticked.
    model_config = ConfigDict(extra="forbid")

    form: FormKind = Field(description="blog_popin (v3 case 5), internal_form (v3 case 6) or external_form")
    email: EmailAddress
    first_name: str | None = Field(None, max_length=80)
    last_name: str | None = Field(None, max_length=80)
    member_opt_in: bool = Field(False, description="The box \"I agree that <member> contacts me\" was ticked")
    brand_opt_in: bool = Field(False, description="The box \"I agree that <brand> contacts me\" was ticked")
    consent_text_version: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                                      description="The version of the consent text the form showed (stored)")
    privacy_policy_url: str = Field(max_length=2000, description=(
        "The privacy policy the form linked: must be the brand's, as `GET /api/v1/widget/{brand_id}/config` gives"))
    website: str | None = Field(None, max_length=500, description=(
        "Honeypot: the form renders this field hidden and leaves it empty; a value drops the submission"))


def _form_owner(store: BrandStore, member_id: str) -> Member:
    member, _ = repository.get_member(store=store, member_id=member_id)
    if member.status != "active" or member.visibility.hide_from_community:
        raise NotFound("Member not found")
    return member


def _person(form: CaptureSubmission) -> ContactCreate:
    try:
        return ContactCreate.model_validate({"firstName": form.first_name, "lastName": form.last_name,
                                             "email": form.email})
    except ValidationError as exc:
        raise invalid_input(exc) from exc


def message_id(*, container: Platform, brand_id: str, member_id: str, email_hash: str, now: datetime) -> str:
    """The confirmation email's id: one per member, address and UTC day, whoever submits and however often."""
    key = container.hasher(brand_id)("member", f"capture:{member_id}:{email_hash}")[:32]
    # The day as 20300101: a dashed date reads as a phone number to the log scrubber.
    return f"contact-confirmation:{key}:{now.strftime('%Y%m%d')}"


def _link(container: Platform, brand_id: str, token: str) -> str:
    # An App page (the contact has no widget session); the token rides in the fragment, never sent to servers.
    return f"{container.settings.public_base_url.rstrip('/')}/app/{brand_id}/capture/confirm#token={token}"


def submit(*, container: Platform, brand: Brand, member_id: str, form: CaptureSubmission, ip_hash: str | None,
           user_agent: str | None, now: datetime) -> None:
    """Take one submission: a confirmation email (one a day) and a pending contact, or nothing; the same answer."""
    store, hasher = container.store.for_brand(brand.id), container.hasher(brand.id)
    member = _form_owner(store, member_id)
    person = _person(form)
    if form.privacy_policy_url != brands.privacy_policy_url(brand, container.settings):
        raise InvalidInput("The form must link the brand's current privacy policy", errors=[
            {"field": "privacyPolicyUrl", "message": "not the brand's privacy policy: load the widget configuration"}])
    if ip_hash:
        throttle.count(store=store, limits=[throttle.Limit(f"capture:ip:{ip_hash}", throttle.IP_POLICY)], now=now)
    if form.website or is_bot(user_agent):
        log.info("capture for member %s dropped: a bot or a filled honeypot", member.id)
        return
    email_hash = hasher("email", person.email or "")
    throttle.count(store=store, limits=[throttle.Limit(f"capture:email:{email_hash}", ADDRESS_POLICY)], now=now)
    if blacklist.is_blocked(store=store, email_hash=email_hash):
        log.info("capture for member %s: blacklisted address, nothing sent", member.id)
        return
    known = contacts.by_address(store=store, member_id=member.id, email_hash=email_hash)
    if known is not None and not contacts.pending_confirmation(known[0]):
        log.info("capture for member %s: already contact %s, nothing sent", member.id, known[0].id)
        return
    capture = Capture(form=ContactSource(form.form), consent_text_version=form.consent_text_version,
                      privacy_policy_url=form.privacy_policy_url, member_opt_in_asked=form.member_opt_in,
                      brand_opt_in_asked=form.brand_opt_in, submitted_at=now)
    since = known[0].history.created_at if known else now
    if not _send_confirmation(container, brand, member, person, email_hash, capture, since=since, now=now):
        return
    if known is None:
        _create_pending(container, brand, member, person, capture, now)


def _send_confirmation(container: Platform, brand: Brand, member: Member, person: ContactCreate, email_hash: str,
                       capture: Capture, *, since: datetime, now: datetime) -> bool:
    """Store a link and enqueue today's email (dropped by its id if today's already went); False when too late."""
    expires = since + contact_schedule.confirmation_period(brand.retention)
    if expires <= now:
        return False  # the pending period is over: the retention timer erases the contact
    store = container.store.for_brand(brand.id)
    token = action_tokens.new_token()
    name = " ".join(part for part in (person.first_name, person.last_name) if part) or None
    # The footer links the rights page; no unsubscribe link: nothing is sent again unless the person confirms.
    data: dict[str, Any] = {**brands.email_data(brand), **contact_footer.data(container.settings, brand_id=brand.id),
                            "member_name": repository.member_name(store=store, member_id=member.id) or "",
                            "confirm_url": _link(container, brand.id, token), "delete_on": isoformat(expires),
                            "member_opt_in": capture.member_opt_in_asked, "brand_opt_in": capture.brand_opt_in_asked}
    # Rendered first: a refusal leaves nothing stored.
    email = prepare_email(brand_id=brand.id, template=TEMPLATE, to_email=person.email or "", to_name=name,
                          locale=brand.default_locale, data=data, settings=container.settings,
                          message_id=message_id(container=container, brand_id=brand.id, member_id=member.id,
                                                email_hash=email_hash, now=now))
    action_tokens.create(store=store, purpose=PURPOSE, subject=member.id, now=now, ttl=expires - now, token=token,
                         data={"emailHash": email_hash, "capture": capture.model_dump(mode="json", by_alias=True)})
    send_prepared(bus=container.bus, message=email)
    log.info("capture for member %s: confirmation email %s enqueued", member.id, Id(email.message_id))
    return True


def _create_pending(container: Platform, brand: Brand, member: Member, person: ContactCreate, capture: Capture,
                    now: datetime) -> None:
    try:
        contact = contacts.create(store=container.store.for_brand(brand.id), brand=brand, member=member, data=person,
                                  source=capture.form, hasher=container.hasher(brand.id), now=now,
                                  consent_state=sources.awaiting_confirmation(now), capture=capture)
    except Conflict:
        # A parallel submission of the same address wrote it (today's email is the same one), or the
        # address was blacklisted meanwhile: either way there is nothing more to write.
        log.info("capture for member %s: contact written meanwhile or address blacklisted", member.id)
        return
    log.info("capture for member %s: contact %s pending confirmation", member.id, contact.id)


def _confirmed(contact: Contact, capture: Capture, now: datetime) -> Contact:
    """The contact once its address is confirmed: the form's opt-in values, the proof of consent dated."""
    state = sources.confirmed(capture.form, member_opt_in_asked=capture.member_opt_in_asked,
                              brand_opt_in_asked=capture.brand_opt_in_asked, now=now)
    # The contact enters the member's CRM now, from the form whose link was followed.
    history = contact.history.model_copy(update={"created_by": capture.form, "modified_by": "contact",
                                                 "modified_at": now})
    return contact.with_consent(state).model_copy(update={
        "email_status": EmailStatus.VALID, "capture": capture.model_copy(update={"confirmed_at": now}),
        "history": history})


def confirm(*, store: BrandStore, events: Publisher, brand: Brand, token: str, now: datetime) -> ContactSource:
    """Confirm an address by its link (a second link of the same address changes nothing); the form confirmed.

    Unknown link: 422; used or expired, or its contact gone (erased, blacklisted since): 410.
    """
    link = action_tokens.peek(store=store, purpose=PURPOSE, token=token, now=now)
    email_hash = str(link.data.get("emailHash"))
    capture = Capture.model_validate(link.data.get("capture") or {})

    def attempt() -> None:  # changed meanwhile (a parallel click): read it again
        found = contacts.by_address(store=store, member_id=link.subject, email_hash=email_hash)
        if found is None or blacklist.is_blocked(store=store, email_hash=email_hash):
            raise action_tokens.LinkGone("This address is no longer waiting for a confirmation")
        contact, etag = found
        if not contacts.pending_confirmation(contact):
            return  # confirmed already (another link, a second click): nothing more changes
        confirmed = _confirmed(contact, capture, now)
        store.replace(contacts.CONTACTS, contacts.to_document(confirmed, brand), etag=etag)
        events.publish(*consent_changed(brand.id, contact, confirmed, cause=ConsentEvent.EMAIL_VERIFIED, now=now))
        log.info("contact %s confirmed its address (%s, brand %s)", contact.id, capture.form.value, brand.id)

    retrying(attempt, attempts=_CONFIRM_ATTEMPTS,
             exhausted=Conflict("The contact changed during the confirmation; try again"))
    action_tokens.consume(store=store, purpose=PURPOSE, token=token, now=now)
    return capture.form
