"""Member profiles: what a member edits about themselves, what a Manager editor may change, availability.

Edits are partial: only the fields sent change, nested objects (address, visibility,
communication) merge, and the whole result is validated as a Member before anything is written,
so bad input answers 422 naming the field and writes nothing. The email is never edited here
(it changes only through its own verified flow).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ConfigDict, Field, ValidationError, field_validator

from shared.errors import InvalidInput
from shared.identity import repository
from shared.identity.lifecycle import save_member
from shared.identity.models import (
    MEMBER_ROLES,
    Address,
    Availability,
    CamelModel,
    CommunicationOptIns,
    CommunityVisibility,
    GeoPoint,
    Member,
    NotificationOptIns,
    Role,
)
from shared.ports.store import BrandStore, Filter
from shared.ports.store_retry import retrying

# Online and away expire unless the App renews them: a closed tab or a lost phone does not
# leave a member shown as reachable. Past `availabilityUntil`, the member counts as offline.
AVAILABILITY_TTL = timedelta(minutes=15)

_NESTED = ("address", "visibility", "communication", "notifications")


class _Partial(CamelModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class AddressUpdate(_Partial):
    street: str | None = Field(None, max_length=200)
    city: str | None = Field(None, max_length=100)
    postal_code: str | None = Field(None, max_length=20)
    country: str | None = Field(None, pattern=r"^[A-Z]{2}$")


class VisibilityUpdate(_Partial):
    hide_events_in_live_stream: bool | None = None
    hide_from_community: bool | None = None


class CommunicationUpdate(_Partial):
    newsletters: bool | None = None
    event_notifications: bool | None = None
    challenge_notifications: bool | None = None
    comment_notifications: bool | None = None


class NotificationsUpdate(_Partial):
    waiting_list: bool | None = None
    direct_messages: bool | None = None


class ProfileUpdate(_Partial):
    """The profile fields a member edits about themselves (partial; unknown fields, email included, are refused)."""

    first_name: str | None = Field(None, max_length=80)
    last_name: str | None = Field(None, max_length=80)
    alias: str | None = Field(None, max_length=80)
    self_presentation: str | None = Field(None, max_length=2000)
    address: AddressUpdate | None = None
    home_shop_id: str | None = Field(None, max_length=120)
    location: GeoPoint | None = None
    position: str | None = Field(None, max_length=120)
    preferred_language: str | None = Field(None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    birth_date: date | None = None
    visibility: VisibilityUpdate | None = None
    communication: CommunicationUpdate | None = None
    notifications: NotificationsUpdate | None = None
    owned_products: list[str] | None = Field(None, max_length=500)
    recommended_products: list[str] | None = Field(None, max_length=500)

    @field_validator("owned_products", "recommended_products")
    @classmethod
    def _references(cls, values: list[str] | None) -> list[str] | None:
        if values is None:
            return None
        if any(not value or len(value) > 120 for value in values):
            raise ValueError("product references are non-empty strings of at most 120 characters")
        return list(dict.fromkeys(values))


class ManagerMemberUpdate(ProfileUpdate):
    """What a Manager editor may change: the profile fields and the member's role (0-6)."""

    role: Role | None = None

    @field_validator("role")
    @classmethod
    def _member_role(cls, value: Role | None) -> Role | None:
        if value is not None and value not in MEMBER_ROLES:
            raise ValueError("a member's role is between 0 and 6")
        return value


class ProfileRead(CamelModel):
    """A member's profile as the App shows it to the member."""

    id: str
    role: int
    status: str
    email: str | None
    first_name: str | None
    last_name: str | None
    alias: str | None
    self_presentation: str | None
    address: Address
    home_shop_id: str | None
    location: GeoPoint | None
    position: str | None
    preferred_language: str | None
    birth_date: date | None
    visibility: CommunityVisibility
    communication: CommunicationOptIns
    notifications: NotificationOptIns
    owned_products: list[str]
    recommended_products: list[str]
    availability: Availability
    availability_until: datetime | None
    photo_url: str | None = Field(None, description="Short-lived signed URL of the profile photo")
    created_at: datetime


class ManagerMemberRead(ProfileRead):
    """A member as the Manager shows it: the profile plus its lifecycle."""

    customer_id: str | None
    email_verified_at: datetime | None
    status_changed_at: datetime | None
    erasure_due_at: datetime | None
    last_activity_at: datetime | None
    sso_subject: str | None


def effective_availability(member: Member, now: datetime) -> Availability:
    """The availability others see: online/away expire into offline at `availabilityUntil`."""
    if member.availability == "offline" or member.availability_until is None or member.availability_until <= now:
        return "offline"
    return member.availability


def _view_fields(member: Member, now: datetime, photo_url: str | None) -> dict[str, Any]:
    fields = member.model_dump()
    fields["availability"] = effective_availability(member, now)
    if fields["availability"] == "offline":
        fields["availability_until"] = None
    return {**fields, "photo_url": photo_url}


def to_read(member: Member, *, now: datetime, photo_url: str | None) -> ProfileRead:
    """The App view of a member's own profile."""
    return ProfileRead.model_validate(_view_fields(member, now, photo_url))


def to_manager_read(member: Member, *, now: datetime, photo_url: str | None) -> ManagerMemberRead:
    """The Manager view of a member: the profile plus its lifecycle."""
    return ManagerMemberRead.model_validate(_view_fields(member, now, photo_url))


def _invalid(exc: ValidationError) -> InvalidInput:
    errors = [{"field": ".".join(str(part) for part in error["loc"]) or "body", "message": error["msg"]}
              for error in exc.errors()]
    return InvalidInput("Invalid value for: " + ", ".join(error["field"] for error in errors), errors=errors)


def apply_update(member: Member, changes: ProfileUpdate) -> Member:
    """The member with `changes` applied (pure); InvalidInput naming the field when the result is invalid."""
    given = changes.model_dump(exclude_unset=True)
    current = member.model_dump()
    for name in _NESTED:
        if name in given:
            if given[name] is None:
                raise InvalidInput(f"{name} cannot be null", errors=[{"field": name, "message": "must be an object"}])
            given[name] = {**current[name], **given[name]}
    for name in ("owned_products", "recommended_products"):
        if name in given and given[name] is None:
            given[name] = []
    if "birth_date" in given:
        # The year is what survives erasure of the date of birth: keep it in step.
        given["birth_year"] = given["birth_date"].year if given["birth_date"] else None
    try:
        return Member.model_validate({**current, **given})
    except ValidationError as exc:
        raise _invalid(exc) from exc


def check_birth_date(member: Member, today: date) -> None:
    """A date of birth in the future is a typo, refused."""
    if member.birth_date and member.birth_date > today:
        raise InvalidInput("The date of birth is in the future",
                           errors=[{"field": "birthDate", "message": "must not be in the future"}])


def _save_changed(store: BrandStore, member_id: str, change: Callable[[Member], Member]) -> Member:
    """Load, change and save a member with its etag; a concurrent writer makes us reload and retry."""

    def attempt() -> Member:
        member, etag = repository.get_member(store=store, member_id=member_id)
        updated = change(member)
        if updated == member:
            return member
        save_member(store=store, member=updated, etag=etag)
        return updated

    return retrying(attempt, attempts=3)  # the third lost race raises its EtagMismatch


def update(*, store: BrandStore, member_id: str, changes: ProfileUpdate, now: datetime) -> Member:
    """Apply a partial profile edit to a member of this brand and save it (retried on a concurrent write)."""

    def change(member: Member) -> Member:
        updated = apply_update(member, changes)
        check_birth_date(updated, now.date())
        return updated

    return _save_changed(store, member_id, change)


def set_availability(*, store: BrandStore, member_id: str, availability: Availability, now: datetime) -> Member:
    """Set online / away (valid AVAILABILITY_TTL, renewed by calling again) or offline."""
    until = None if availability == "offline" else now + AVAILABILITY_TTL
    return _save_changed(store, member_id, lambda member: member.model_copy(
        update={"availability": availability, "availability_until": until}))


def query_filters(*, status: str | None, role: int | None) -> list[Filter]:
    """Store filters of the Manager's member list."""
    filters = []
    if status is not None:
        filters.append(Filter("status", "=", status))
    if role is not None:
        filters.append(Filter("role", "=", role))
    return filters
