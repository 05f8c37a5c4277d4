"""The events the CRM raises (docs/events.md)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from shared.crm.consent import BrandOptIn, MemberOptIn
from shared.crm.models import Contact
from shared.events.model import DomainEvent, event_id


class OrderContactLinked(DomainEvent):
    """The contact an order made or matched (`contact_id`), or why it made none (`refused`, an error code)."""

    name: ClassVar[str] = "OrderContactLinked"

    order_id: str = Field(alias="orderId")
    contact_id: str | None = Field(None, alias="contactId")
    refused: str | None = None


class ContactConsentChanged(DomainEvent):
    """A contact's opt-in with their member or with the brand moved (the guide's consent states), and why.

    `cause` is the consent event that moved it (`shared.crm.consent.ConsentEvent`: an invitation
    answered, an opt-out from an email, a global opt-out, an email confirmed, ...). Ids and the opt-in
    values only: no address, no name.
    """

    name: ClassVar[str] = "ContactConsentChanged"

    contact_id: str = Field(alias="contactId")
    member_id: str = Field(alias="memberId")
    member_opt_in: MemberOptIn = Field(alias="memberOptIn")
    brand_opt_in: BrandOptIn = Field(alias="brandOptIn")
    cause: str


def consent_changed(brand_id: str, before: Contact, after: Contact, *, cause: str,
                    now: datetime) -> list[ContactConsentChanged]:
    """The event of a consent write, or none when the write left both opt-ins as they were."""
    if (before.member_opt_in, before.brand_opt_in) == (after.member_opt_in, after.brand_opt_in):
        return []
    return [ContactConsentChanged(
        id=event_id(ContactConsentChanged.name, brand_id, after.id, after.member_opt_in, after.brand_opt_in,
                    now.isoformat()),
        brand_id=brand_id, occurred_at=now, contact_id=after.id, member_id=after.member_id,
        member_opt_in=after.member_opt_in, brand_opt_in=after.brand_opt_in, cause=cause)]
