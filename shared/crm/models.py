"""A member's contact: every field of the guide's contact table (v4), camelCase when stored.

Deprecated v4 fields (partners opt-in, phones, street address) are not modelled at all.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.crm.consent import BrandOptIn, ConsentState, MemberOptIn

# The store container of contacts.
CONTACTS = "contacts"


class EmailStatus(StrEnum):
    """Status received from previous emails; `valid` until the provider says otherwise."""

    VALID = "valid"
    NOT_VERIFIED = "not_verified"
    SOFT_BOUNCE = "soft_bounce"
    HARD_BOUNCE = "hard_bounce"
    SPAM = "spam"
    BLOCKED = "blocked"


# "the Member is not able to send emails to a contact with a blocked status"; only a soft
# bounce can be released by the member, so it blocks until then.
BLOCKING_EMAIL_STATUSES = frozenset(
    {EmailStatus.SOFT_BOUNCE, EmailStatus.HARD_BOUNCE, EmailStatus.SPAM, EmailStatus.BLOCKED}
)


class ContactType(StrEnum):
    """Only used in direct-selling scenarios."""

    HOSTESS = "hostess"
    CUSTOMER = "customer"
    PROSPECT = "prospect"


class ContactSource(StrEnum):
    """How a contact entered the CRM (the guide's collection mechanisms, v4 numbering in comments)."""

    MANUAL = "manual"  # 1, deprecated in v4
    PRIVATE_LIST = "private_list"  # 2, deprecated in v4
    BRAND_SYNC = "brand_sync"  # 3
    BLOG_POPIN = "blog_popin"  # v3 case 5
    INTERNAL_FORM = "internal_form"  # v3 case 6
    ORDER = "order"  # 6
    ORDER_POPIN = "order_popin"  # v3 case 8
    STORE_PURCHASE = "store_purchase"  # 7
    EXTERNAL_FORM = "external_form"  # 8
    PRE_GDPR = "pre_gdpr"  # recorded before 25 May 2018


ContactStatus = Literal["active", "erased"]


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class ContactAddress(_Model):
    """City, postal code and country only: the street is a v4-deprecated field."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    city: str | None = Field(None, max_length=120)
    postal_code: str | None = Field(None, alias="postalCode", max_length=20)
    country: str | None = Field(None, max_length=2, min_length=2, pattern=r"^[A-Z]{2}$")


class Interactions(_Model):
    """Publications sent by email, and views and clicks on them (a click is activity, a view is not)."""

    publications_sent: int = Field(0, alias="publicationsSent", ge=0)
    views: int = Field(0, ge=0)
    clicks: int = Field(0, ge=0)
    last_sent_at: datetime | None = Field(None, alias="lastSentAt")
    last_view_at: datetime | None = Field(None, alias="lastViewAt")
    last_click_at: datetime | None = Field(None, alias="lastClickAt")


SaleStatus = Literal["placed", "refunded", "cancelled"]


class SaleRef(_Model):
    """An order or store purchase after a member's publication: date and amount (products stay in the Manager).

    One line per order (its `reference`), kept in step with the order: its amount after an update,
    what was refunded, and whether it was cancelled.
    """

    reference: str = Field(max_length=100)
    at: datetime
    amount_minor: int = Field(alias="amountMinor", ge=0)
    currency: str = Field(max_length=3)
    refunded_minor: int = Field(0, alias="refundedMinor", ge=0)
    status: SaleStatus = "placed"


class ChangeHistory(_Model):
    """Created by which source, last modified by whom and when."""

    created_by: ContactSource = Field(alias="createdBy")
    created_at: datetime = Field(alias="createdAt")
    modified_by: str | None = Field(None, alias="modifiedBy")
    modified_at: datetime | None = Field(None, alias="modifiedAt")


class Invitation(_Model):
    """The member's invitation email: when it was first sent and when it was sent again (once, automatically)."""

    sent_at: datetime = Field(alias="sentAt")
    resent_at: datetime | None = Field(None, alias="resentAt")
    answered_at: datetime | None = Field(None, alias="answeredAt")


class Capture(_Model):
    """What a form's contact was shown and ticked (the proof of consent), and when they confirmed their address."""

    form: ContactSource
    consent_text_version: str = Field(alias="consentTextVersion", max_length=40)
    privacy_policy_url: str = Field(alias="privacyPolicyUrl", max_length=2000)
    member_opt_in_asked: bool = Field(alias="memberOptInAsked")
    brand_opt_in_asked: bool = Field(alias="brandOptInAsked")
    submitted_at: datetime = Field(alias="submittedAt")
    confirmed_at: datetime | None = Field(None, alias="confirmedAt")


class Contact(_Model):
    """One contact of one member (the same person entered by two members is two contacts)."""

    id: str
    member_id: str = Field(alias="memberId")
    status: ContactStatus = "active"
    first_name: str | None = Field(None, alias="firstName")
    last_name: str | None = Field(None, alias="lastName")
    email: str | None = None
    email_hash: str | None = Field(None, alias="emailHash")
    email_status: EmailStatus = Field(EmailStatus.VALID, alias="emailStatus")
    customer_id: str | None = Field(None, alias="customerId")
    customer_id_hash: str | None = Field(None, alias="customerIdHash")
    member_opt_in: MemberOptIn = Field(alias="memberOptIn")
    member_opt_in_at: datetime | None = Field(None, alias="memberOptInAt")
    brand_opt_in: BrandOptIn = Field(alias="brandOptIn")
    brand_opt_in_at: datetime | None = Field(None, alias="brandOptInAt")
    contact_type: ContactType | None = Field(None, alias="contactType")
    notes: str | None = None
    address: ContactAddress = Field(default_factory=ContactAddress)
    tags: list[str] = Field(default_factory=list)
    interactions: Interactions = Field(default_factory=Interactions)
    sales: list[SaleRef] = Field(default_factory=list)
    history: ChangeHistory
    recorded_at: datetime | None = Field(None, alias="recordedAt")
    last_activity_at: datetime | None = Field(None, alias="lastActivityAt")
    # The pending-invitation schedule counts from the first send ("Invitation sent" has no
    # known status, so memberOptInAt does not move when it is reached).
    invitation: Invitation | None = None
    # Contacts from a pop-in or form (shared/crm/capture.py): the submission they confirmed, or await confirming.
    capture: Capture | None = None

    @property
    def consent(self) -> ConsentState:
        """The two opt-in values and their dates, as the state machine reads them."""
        return ConsentState(member=self.member_opt_in, brand=self.brand_opt_in, member_at=self.member_opt_in_at,
                            brand_at=self.brand_opt_in_at)

    def with_consent(self, state: ConsentState) -> Contact:
        """A copy carrying `state`."""
        return self.model_copy(update={"member_opt_in": state.member, "member_opt_in_at": state.member_at,
                                       "brand_opt_in": state.brand, "brand_opt_in_at": state.brand_at})
