"""Contacts left through a member's external form (a widget or page on the brand's site).

The guide's rule: member opt-in "New" and brand opt-in "Storage only", unless the form asked for
each opt-in and the person ticked it. The answer never tells the sender whether the address was
already known or blacklisted, so the form cannot be used to probe either list.
"""

from __future__ import annotations

import logging
from datetime import datetime

from pydantic import Field, ValidationError

from shared.brands.models import Brand
from shared.brands.service import invalid_input
from shared.crm import service as contacts
from shared.crm import sources
from shared.crm.models import ContactSource
from shared.crm.views import ContactCreate
from shared.emails.address import EmailAddress
from shared.errors import Conflict, NotFound
from shared.identity import repository, throttle
from shared.identity.models import CamelModel
from shared.ports.store import BrandStore
from shared.privacy.hashing import BrandHasher

log = logging.getLogger(__name__)


class ExternalFormSubmission(CamelModel):
    """What the form sends: who the person is and which boxes they ticked."""

    first_name: str | None = Field(None, max_length=80)
    last_name: str | None = Field(None, max_length=80)
    email: EmailAddress
    member_opt_in: bool = False  # "I agree that <member> contacts me"
    brand_opt_in: bool = False  # "I agree that <brand> contacts me"


def submit(*, store: BrandStore, brand: Brand, hasher: BrandHasher, member_id: str, form: ExternalFormSubmission,
           ip_hash: str | None, now: datetime) -> None:
    """Record the person as a contact of the member, rate-limited per hashed IP; silent on known addresses."""
    member, _ = repository.get_member(store, member_id)
    if member.status != "active" or member.visibility.hide_from_community:
        raise NotFound("Member not found")
    if ip_hash:
        # Every submission counts towards the IP's limit, so one address cannot flood a member's CRM.
        throttle.count(store, limits=[throttle.Limit(f"form-ip:{ip_hash}", throttle.IP_POLICY)], now=now)
    try:
        data = ContactCreate.model_validate({"firstName": form.first_name, "lastName": form.last_name,
                                             "email": form.email})
    except ValidationError as exc:
        raise invalid_input(exc) from exc
    params = sources.SourceInput(member_opt_in_asked=form.member_opt_in, brand_opt_in_asked=form.brand_opt_in)
    try:
        contacts.create(store=store, brand=brand, member=member, data=data, source=ContactSource.EXTERNAL_FORM,
                        hasher=hasher, now=now, params=params)
    except Conflict:  # a blacklisted address (ContactBlacklisted is a Conflict) or one already there
        # Same answer as a new contact: the sender learns nothing about the lists.
        log.info("external form for member %s: address already known or blacklisted", member_id)
