"""Request and response shapes of contacts: what a member writes and reads, what the brand reads."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.crm.consent import BRAND_OPT_IN_TABLE, MEMBER_OPT_IN_TABLE, BrandOptIn, Meaning, MemberOptIn
from shared.crm.models import Contact, ContactAddress, ContactSource, ContactType, EmailStatus, Interactions, SaleRef
from shared.emails.address import EmailAddress


class _Body(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    first_name: str | None = Field(None, alias="firstName", max_length=80)
    last_name: str | None = Field(None, alias="lastName", max_length=80)
    email: EmailAddress | None = None
    customer_id: str | None = Field(None, alias="customerId", max_length=100)
    contact_type: ContactType | None = Field(None, alias="contactType")
    notes: str | None = Field(None, max_length=2000)
    address: ContactAddress | None = None
    tags: list[str] | None = Field(None, max_length=50)

    @field_validator("email")
    @classmethod
    def _lowercase_email(cls, value: str | None) -> str | None:
        # Contacts keep their addresses lowercase (the CRM's own form; the type has checked and trimmed it).
        return value.lower() if value is not None else None

    @field_validator("tags")
    @classmethod
    def _clean_tags(cls, values: list[str] | None) -> list[str]:
        if values is None:  # null clears the tags (a list field is never stored as null)
            return []
        cleaned = sorted({value.strip() for value in values if value.strip()})
        if any(len(value) > 40 for value in cleaned):
            raise ValueError("a tag has at most 40 characters")
        return cleaned

    def filled(self) -> bool:
        """Whether at least one field carries a value (the guide: "at least one data filled")."""
        address = self.address
        return any([self.first_name, self.last_name, self.email, self.customer_id, self.notes, self.tags,
                    address and (address.city or address.postal_code or address.country)])


class ContactCreate(_Body):
    """A contact as a member enters it: every field optional, at least one filled."""

    @model_validator(mode="after")
    def _at_least_one(self) -> ContactCreate:
        if not self.filled():
            raise ValueError("at least one field must be filled")
        return self


class ContactUpdate(_Body):
    """A partial edit: only the fields sent change (opt-ins are never edited by hand)."""


class OptInRead(BaseModel):
    """An opt-in value with the guide's wording, its meaning and its date."""

    value: str
    wording: str
    meaning: Meaning
    at: datetime | None = None


def member_opt_in_read(value: MemberOptIn, at: datetime | None) -> OptInRead:
    """The member opt-in as shown."""
    row = MEMBER_OPT_IN_TABLE[value]
    return OptInRead(value=value.value, wording=row.wording, meaning=row.meaning, at=at)


def brand_opt_in_read(value: BrandOptIn, at: datetime | None) -> OptInRead:
    """The brand opt-in as shown."""
    row = BRAND_OPT_IN_TABLE[value]
    return OptInRead(value=value.value, wording=row.wording, meaning=row.meaning, at=at)


class ContactRead(BaseModel):
    """A contact as its member sees it (the email of an opted-out contact is hidden)."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    first_name: str | None = Field(alias="firstName")
    last_name: str | None = Field(alias="lastName")
    email: str | None
    email_hidden: bool = Field(alias="emailHidden")
    email_status: EmailStatus = Field(alias="emailStatus")
    customer_id: str | None = Field(alias="customerId")
    member_opt_in: OptInRead = Field(alias="memberOptIn")
    brand_opt_in: OptInRead = Field(alias="brandOptIn")
    contact_type: ContactType | None = Field(alias="contactType")
    notes: str | None
    address: ContactAddress
    tags: list[str]
    interactions: Interactions
    sales: list[SaleRef]
    created_by: ContactSource = Field(alias="createdBy")
    created_at: datetime = Field(alias="createdAt")
    modified_at: datetime | None = Field(alias="modifiedAt")


class ManagerContactRead(BaseModel):
    """A contact as the brand sees it: only with a brand opt-in, and without the member's notes and tags."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    member_id: str = Field(alias="memberId")
    first_name: str | None = Field(alias="firstName")
    last_name: str | None = Field(alias="lastName")
    email: str | None
    email_status: EmailStatus = Field(alias="emailStatus")
    customer_id: str | None = Field(alias="customerId")
    brand_opt_in: OptInRead = Field(alias="brandOptIn")
    contact_type: ContactType | None = Field(alias="contactType")
    address: ContactAddress
    sales: list[SaleRef]
    created_by: ContactSource = Field(alias="createdBy")
    created_at: datetime = Field(alias="createdAt")


def to_member_read(contact: Contact) -> ContactRead:
    """The member's view of their contact: no email once the contact opted out."""
    hidden = MEMBER_OPT_IN_TABLE[contact.member_opt_in].meaning == Meaning.OPTED_OUT
    return ContactRead(
        id=contact.id, first_name=contact.first_name, last_name=contact.last_name,
        email=None if hidden else contact.email, email_hidden=hidden, email_status=contact.email_status,
        customer_id=contact.customer_id,
        member_opt_in=member_opt_in_read(contact.member_opt_in, contact.member_opt_in_at),
        brand_opt_in=brand_opt_in_read(contact.brand_opt_in, contact.brand_opt_in_at),
        contact_type=contact.contact_type, notes=contact.notes, address=contact.address, tags=contact.tags,
        interactions=contact.interactions, sales=contact.sales, created_by=contact.history.created_by,
        created_at=contact.history.created_at, modified_at=contact.history.modified_at,
    )


def to_manager_read(contact: Contact) -> ManagerContactRead:
    """The brand's view of a contact it may see."""
    return ManagerContactRead(
        id=contact.id, member_id=contact.member_id, first_name=contact.first_name, last_name=contact.last_name,
        email=contact.email, email_status=contact.email_status, customer_id=contact.customer_id,
        brand_opt_in=brand_opt_in_read(contact.brand_opt_in, contact.brand_opt_in_at),
        contact_type=contact.contact_type, address=contact.address, sales=contact.sales,
        created_by=contact.history.created_by, created_at=contact.history.created_at,
    )


class MemberRef(BaseModel):
    """Names the member by Popsell id or by SSO subject (exactly one)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    member_id: str | None = Field(None, alias="memberId", min_length=1, max_length=100)
    sso_subject: str | None = Field(None, alias="ssoSubject", min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_member(self) -> MemberRef:
        if (self.member_id is None) == (self.sso_subject is None):
            raise ValueError("give exactly one of memberId or ssoSubject")
        return self


class OrderCustomer(_Body):
    """Who placed the order, as the brand's shop knows them."""

    contact_type: None = Field(None, alias="contactType", exclude=True)
    notes: None = Field(None, exclude=True)
    address: None = Field(None, exclude=True)
    tags: None = Field(None, exclude=True)
