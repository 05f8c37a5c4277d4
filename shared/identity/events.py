"""The events of a member's life in a programme (docs/events.md): joined, status changed, erased.

Ids come from what happened (the member, the new status and the instant it was written), so the
retry of a call that crashed after its write raises the event of the first try again.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from shared.events.model import DomainEvent, event_id
from shared.identity.models import Member


class MemberJoined(DomainEvent):
    """A member can use the App: their email verified after sign-up, or provisioned by the brand's SSO."""

    name: ClassVar[str] = "MemberJoined"

    member_id: str = Field(alias="memberId")
    role: int
    via: Literal["signup", "sso"]


class MemberStatusChanged(DomainEvent):
    """A member was blocked, left (unsubscribed, contract ended), or came back (unblocked, reactivated)."""

    name: ClassVar[str] = "MemberStatusChanged"

    member_id: str = Field(alias="memberId")
    action: str
    status: str
    erasure_due_at: datetime | None = Field(None, alias="erasureDueAt")


class MemberErased(DomainEvent):
    """A member's personal data was hashed away, by the rule named (a retention rule, a request, the brand).

    `brand_data_goes`: all the brand's own data goes with them (its contract ended, its programme's
    suspension is over), so nothing is kept for the brand either.
    """

    name: ClassVar[str] = "MemberErased"

    member_id: str = Field(alias="memberId")
    rule: str
    brand_data_goes: bool = Field(alias="brandDataGoes")


class VisitorMerged(DomainEvent):
    """A temporary account merged into the client its person is (the brand's site vouched for them)."""

    name: ClassVar[str] = "VisitorMerged"

    visitor_id: str = Field(alias="visitorId")
    client_id: str = Field(alias="clientId")


def merged(brand_id: str, visitor_id: str, client_id: str, *, at: datetime) -> VisitorMerged:
    return VisitorMerged(id=event_id(VisitorMerged.name, brand_id, visitor_id, client_id), brand_id=brand_id,
                         occurred_at=at, visitor_id=visitor_id, client_id=client_id)


def joined(brand_id: str, member: Member, *, via: Literal["signup", "sso"], now: datetime) -> MemberJoined:
    return MemberJoined(id=event_id(MemberJoined.name, brand_id, member.id), brand_id=brand_id,
                        occurred_at=member.status_changed_at or now, member_id=member.id, role=int(member.role),
                        via=via)


def status_changed(brand_id: str, member: Member, *, action: str, now: datetime) -> MemberStatusChanged:
    at = member.status_changed_at or now
    return MemberStatusChanged(
        id=event_id(MemberStatusChanged.name, brand_id, member.id, member.status, at.isoformat()),
        brand_id=brand_id, occurred_at=at, member_id=member.id, action=action, status=member.status,
        erasure_due_at=member.erasure_due_at)


def erased(brand_id: str, member_id: str, *, rule: str, brand_data_goes: bool, at: datetime) -> MemberErased:
    # One event per erasure of a member (and one more when the brand's data goes too), whenever a retry comes.
    return MemberErased(id=event_id(MemberErased.name, brand_id, member_id, "brand" if brand_data_goes else ""),
                        brand_id=brand_id, occurred_at=at, member_id=member_id, rule=rule,
                        brand_data_goes=brand_data_goes)
