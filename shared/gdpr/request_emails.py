"""The emails a GDPR request sends to its own person: the export link, the erasure confirmation, the lifting notice.

These are the only emails that still reach a person who restricted processing
(shared.gdpr.restriction.PERSON_REQUESTED_TEMPLATES): they are the request itself. A member is
written to at their verified address; a contact at the address of one of their records, with the
rights-page footer every contact email carries; a visitor never (their email_tmp may serve only
the conversation notification: the widget shows the step instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.brands import service as brands
from shared.brands.models import Brand
from shared.config import Settings
from shared.crm import contact_footer
from shared.emails.address import checked_email
from shared.emails.service import enqueue_email
from shared.gdpr import contact_subject
from shared.identity import repository
from shared.ports.bus import MessageBus
from shared.ports.store import BrandStore


@dataclass(frozen=True)
class Recipient:
    """Where a request's email goes, in which language, with which extra template data."""

    email: str
    name: str | None
    locale: str
    data: dict[str, Any]


def recipient(*, store: BrandStore, settings: Settings, brand: Brand, subject_kind: str,
              subject_id: str) -> Recipient | None:
    """The person to write to about their request, or None (a visitor, or no address to write to)."""
    if subject_kind == "member":
        member, _ = repository.get_member(store=store, member_id=subject_id)
        if not member.email or not checked_email(member.email):
            return None
        return Recipient(member.email, member.first_name, member.preferred_language or brand.default_locale, {})
    if subject_kind == "contact":
        address = contact_subject.address(store=store, email_hash=subject_id)
        if address is None:
            return None
        return Recipient(address, None, brand.default_locale, contact_footer.data(settings, brand_id=brand.id))
    return None


def send(*, store: BrandStore, bus: MessageBus, settings: Settings, brand: Brand, subject_kind: str,
         subject_id: str, template: str, data: dict[str, Any], message_id: str) -> bool:
    """Email the request's person under a fixed message id; False when there is no one to write to."""
    to = recipient(store=store, settings=settings, brand=brand, subject_kind=subject_kind, subject_id=subject_id)
    if to is None:
        return False
    enqueue_email(bus=bus, brand_id=brand.id, template=template, to_email=to.email, to_name=to.name,
                  locale=to.locale, data={**brands.email_data(brand), **to.data, **data}, message_id=message_id,
                  settings=settings)
    return True


def export_template(subject_kind: str) -> str:
    """A member's export email speaks of their account; a contact's of what members hold about them."""
    return "contact_rights_export_ready" if subject_kind == "contact" else "gdpr_export_ready"

