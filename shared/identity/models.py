"""Users and roles exactly as the Data Protection Guide v4 defines them.

Members (roles 0-6) use the App; external users (roles 7 client, 8 temporary account) only
interact through widgets; Manager users have an access level. `email` (verified members) and
`email_tmp` (external users) are separate fields with separate uses and are never copied into
each other.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import IntEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Role(IntEnum):
    """The guide's roles. "Ambassador" is the guide's legacy word for role 0; the product says member."""

    AMBASSADOR = 0
    EMPLOYEE = 1
    ADMINISTRATOR = 2
    VENDOR = 3
    SHOP_MANAGER = 4
    MANAGER = 5
    EXPERT = 6
    CLIENT = 7
    TEMPORARY_ACCOUNT = 8

    @property
    def is_member(self) -> bool:
        return self <= Role.EXPERT

    @property
    def is_external(self) -> bool:
        return self >= Role.CLIENT

    @property
    def under_contract(self) -> bool:
        """Roles 1-6 work under contract with the brand: their names survive erasure."""
        return Role.EMPLOYEE <= self <= Role.EXPERT


MEMBER_ROLES = tuple(role for role in Role if role.is_member)
EXTERNAL_ROLES = (Role.CLIENT, Role.TEMPORARY_ACCOUNT)

MemberStatus = Literal[
    "pending_verification",  # signed up, email not yet verified: no access
    "active",
    "blocked",  # blocked by the Manager: no access, reversible
    "unsubscribed",  # left by themselves: no access, erasure scheduled, reversible until then
    "contract_ended",  # ended by the Manager, SSO or API: no access, erasure scheduled
    "erased",  # personal data erased or hashed; the document stays for statistics
]
ACCESS_STATUSES: frozenset[str] = frozenset({"active"})

Availability = Literal["online", "away", "offline"]


class CamelModel(BaseModel):
    """API and document models speak camelCase and accept both spellings."""

    model_config = ConfigDict(populate_by_name=True, alias_generator=lambda name: _camel(name))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class Address(CamelModel):
    """Postal address: on erasure only city and postal code survive."""

    street: str | None = Field(None, max_length=200)
    city: str | None = Field(None, max_length=100)
    postal_code: str | None = Field(None, max_length=20)
    country: str | None = Field(None, pattern=r"^[A-Z]{2}$")


class CommunityVisibility(CamelModel):
    """The two community-visibility opt-outs: unchecked by default."""

    hide_events_in_live_stream: bool = False
    hide_from_community: bool = False


class CommunicationOptIns(CamelModel):
    """The four communication opt-ins (opted in at signup through the T&C; each can be turned off)."""

    newsletters: bool = True
    event_notifications: bool = True
    challenge_notifications: bool = True
    comment_notifications: bool = True


class NotificationOptIns(CamelModel):
    """Which push notifications the member's devices receive (docs/notifications.md): all on by default."""

    waiting_list: bool = True
    direct_messages: bool = True


class GeoPoint(CamelModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class TermsAcceptance(CamelModel):
    """Which version of which terms was accepted, and when (kept on erasure)."""

    version: str
    accepted_at: datetime


class Restriction(CamelModel):
    """GDPR article 18: since when the person's data is kept but not processed, and by which request."""

    since: datetime
    request_id: str


class Member(CamelModel):
    """A member document (container `members`): every field of the guide's member table.

    Identifiers that must survive erasure for blacklist and whitelist comparisons are kept as
    keyed hashes (`email_hash`, `customer_id_hash`, `social_id_hashes`); the clear values sit
    beside them until erasure.
    """

    id: str
    role: Role
    status: MemberStatus = "pending_verification"
    created_at: datetime  # kept on erasure
    first_name: str | None = Field(None, max_length=80)
    last_name: str | None = Field(None, max_length=80)
    alias: str | None = Field(None, max_length=80)
    password_hash: str | None = None  # bcrypt; None with social login or SSO
    email: str | None = None  # verified members only (never an external user's address)
    email_hash: str | None = None
    email_verified_at: datetime | None = None
    customer_id: str | None = Field(None, max_length=120)
    customer_id_hash: str | None = None
    social_ids: dict[str, str] = Field(default_factory=dict)  # provider -> subject id
    social_id_hashes: dict[str, str] = Field(default_factory=dict)
    address: Address = Field(default_factory=Address)
    preferred_language: str | None = Field(None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    birth_date: date | None = None
    birth_year: int | None = None  # what survives erasure of the date of birth
    popsell_terms: TermsAcceptance | None = None  # kept on erasure
    photo_blob: str | None = None
    self_presentation: str | None = Field(None, max_length=2000)
    position: str | None = Field(None, max_length=120)
    home_shop_id: str | None = Field(None, max_length=120)
    location: GeoPoint | None = None
    visibility: CommunityVisibility = Field(default_factory=CommunityVisibility)
    communication: CommunicationOptIns = Field(default_factory=CommunicationOptIns)
    notifications: NotificationOptIns = Field(default_factory=NotificationOptIns)
    owned_products: list[str] = Field(default_factory=list)
    recommended_products: list[str] = Field(default_factory=list)
    availability: Availability = "offline"
    availability_until: datetime | None = None
    sso_subject: str | None = None  # the brand platform's id for SSO-provisioned members
    sso_subject_hash: str | None = None  # kept when the member is erased
    last_activity_at: datetime | None = None  # what the 3-year inactivity rule reads
    status_changed_at: datetime | None = None
    erasure_due_at: datetime | None = None
    # Raised by a password reset: App access tokens carry the epoch they were issued in, and a token
    # of an earlier epoch stops working (shared/identity/member_sessions.py).
    session_epoch: int = Field(0, ge=0)
    restriction: Restriction | None = None  # article 18: see shared/gdpr/restriction.py


class ExternalUser(CamelModel):
    """An external user (container `visitors`): role 8 temporary account or role 7 client.

    Exists only once the Widget Policy is accepted. `email_tmp` only with the service T&C accepted
    and only for the guide's purposes (identify the user in a conversation, one notification of a
    reply); affiliation-only visitors have no document here at all.
    """

    id: str
    role: Literal[Role.CLIENT, Role.TEMPORARY_ACCOUNT]
    status: Literal["active", "merged", "erased"] = "active"
    created_at: datetime
    widget_policy: TermsAcceptance
    service_terms: TermsAcceptance | None = None
    first_name: str | None = Field(None, max_length=80)
    email_tmp: str | None = None
    email_tmp_hash: str | None = None
    customer_id_hash: str | None = None  # clients: keyed hash of the brand's customer id
    merged_into: str | None = None
    last_interaction_at: datetime | None = None
    restriction: Restriction | None = None  # article 18: see shared/gdpr/restriction.py


ManagerLevel = Literal["viewer", "editor", "admin", "operator"]


class ManagerUser(CamelModel):
    """A Manager user of one brand (or a platform operator under the platform scope)."""

    id: str
    level: ManagerLevel
    # "erased": the brand's data all went (shared.identity.manager_users.erase); only the keyed hash stays.
    status: Literal["invited", "active", "disabled", "erased"] = "invited"
    email: str | None
    email_hash: str
    first_name: str | None = None
    last_name: str | None = None
    password_hash: str | None = None
    invited_by: str | None = None
    created_at: datetime
    last_login_at: datetime | None = None
