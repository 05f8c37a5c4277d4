"""The consent state machine of a contact: the guide's member and brand opt-in values, their
meaning, the transitions sources and actions cause, and whether anything may be sent.

Data Protection Guide v4, "Contact data" (member opt-in, brand opt-in) and "Contacts retention"
("New contacts ... are blocked by default: nothing can be sent to these contacts except an
invitation email"). Pure functions only: no store, no clock (`now` is passed in).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Literal

from shared.errors import Conflict


class Meaning(StrEnum):
    """What an opt-in value means for sending and keeping data."""

    OPTED_IN = "opted_in"
    OPTED_OUT = "opted_out"
    TEMPORARILY_OPTED_OUT = "temporarily_opted_out"
    STORAGE_ONLY = "storage_only"
    NO_KNOWN_STATUS = "no_known_status"


class MemberOptIn(StrEnum):
    """Whether the contact accepted to be contacted by the member (the guide's "Member opt-in")."""

    NEW = "new"
    INVITATION_SENT = "invitation_sent"
    INVITATION_ACCEPTED = "invitation_accepted"
    INVITATION_DECLINED = "invitation_declined"
    OPT_OUT_EMAIL = "opt_out_email"
    OPT_OUT_NO_ACTION = "opt_out_no_action"
    GLOBAL_OPT_OUT = "global_opt_out"
    SOCIAL_MEDIA_ONLY = "social_media_only"
    OPT_IN_BRAND_IMPORTED = "opt_in_brand_imported"
    OPT_IN_BLOG_PENDING = "opt_in_blog_pending"
    OPT_IN_BLOG_VERIFIED = "opt_in_blog_verified"
    OPT_IN_INTERNAL_FORM = "opt_in_internal_form"
    OPT_IN_EXTERNAL_FORM = "opt_in_external_form"
    OPT_IN_ORDER = "opt_in_order"
    OPT_IN_ORDER_POPIN = "opt_in_order_popin"
    OTHER_OPT_IN = "other_opt_in"
    STORAGE_ONLY = "storage_only"


class BrandOptIn(StrEnum):
    """Whether the contact let the brand store their data and email them (the guide's "Brand opt-in")."""

    NO_OPT_IN = "no_opt_in"
    BLOG = "blog"
    INTERNAL_FORM = "internal_form"
    EXTERNAL_FORM = "external_form"
    BRAND_DATABASE = "brand_database"
    STORAGE_ONLY = "storage_only"


@dataclass(frozen=True)
class OptInRow:
    """One value of the guide's table: its wording and its meaning."""

    wording: str
    meaning: Meaning
    visible_to_brand: bool = False


# One row per value, in the guide's order and with its wording (docs/crm-consent.md shows this table).
MEMBER_OPT_IN_TABLE: dict[MemberOptIn, OptInRow] = {
    MemberOptIn.NEW: OptInRow("New record", Meaning.NO_KNOWN_STATUS),
    MemberOptIn.INVITATION_SENT: OptInRow("Invitation sent", Meaning.NO_KNOWN_STATUS),
    MemberOptIn.INVITATION_ACCEPTED: OptInRow("Invitation accepted", Meaning.OPTED_IN),
    MemberOptIn.INVITATION_DECLINED: OptInRow("Invitation declined", Meaning.OPTED_OUT),
    MemberOptIn.OPT_OUT_EMAIL: OptInRow("Opt-out from an email", Meaning.OPTED_OUT),
    MemberOptIn.OPT_OUT_NO_ACTION: OptInRow("Opt-out no action from an invitation email", Meaning.OPTED_OUT),
    MemberOptIn.GLOBAL_OPT_OUT: OptInRow(
        "Global opt-out (opted-out from a Member's publication and from all the Members of this brand)",
        Meaning.OPTED_OUT,
    ),
    # The guide gives no category; v3: "these contacts have not opted-in and can only be contacted
    # by the ambassador through the social media platform" — no email, hence no known status.
    MemberOptIn.SOCIAL_MEDIA_ONLY: OptInRow("Social media only", Meaning.NO_KNOWN_STATUS),
    MemberOptIn.OPT_IN_BRAND_IMPORTED: OptInRow("Opt-in from Brand - imported", Meaning.OPTED_IN),
    MemberOptIn.OPT_IN_BLOG_PENDING: OptInRow(
        "Opt-in from blog popin pending email verification", Meaning.TEMPORARILY_OPTED_OUT
    ),
    MemberOptIn.OPT_IN_BLOG_VERIFIED: OptInRow("Opt-in from blog popin + email verified", Meaning.OPTED_IN),
    MemberOptIn.OPT_IN_INTERNAL_FORM: OptInRow("Opt-in from internal form", Meaning.OPTED_IN),
    MemberOptIn.OPT_IN_EXTERNAL_FORM: OptInRow("Opt-in from external form", Meaning.OPTED_IN),
    MemberOptIn.OPT_IN_ORDER: OptInRow("Opt-in from order", Meaning.OPTED_IN),
    MemberOptIn.OPT_IN_ORDER_POPIN: OptInRow("Opt-in from order pop-in", Meaning.OPTED_IN),
    MemberOptIn.OTHER_OPT_IN: OptInRow("Other Opt-in (opt-in obtained by various means)", Meaning.OPTED_IN),
    MemberOptIn.STORAGE_ONLY: OptInRow(
        "Storage only: no opt-in obtained, but data can be stored because the Contact has been implicitly "
        "informed of the storage", Meaning.STORAGE_ONLY,
    ),
}

BRAND_OPT_IN_TABLE: dict[BrandOptIn, OptInRow] = {
    # "No opt-in" is not a refusal the contact expressed: nothing is known, and the brand sees nothing.
    BrandOptIn.NO_OPT_IN: OptInRow("No opt-in (contact data is hidden to the Brand)", Meaning.NO_KNOWN_STATUS),
    BrandOptIn.BLOG: OptInRow("Opt-in for communications – from Popsell blog", Meaning.OPTED_IN, True),
    BrandOptIn.INTERNAL_FORM: OptInRow(
        "Opt-in for communications – from Popsell internal form", Meaning.OPTED_IN, True
    ),
    BrandOptIn.EXTERNAL_FORM: OptInRow(
        "Opt-in for communications – from Popsell external form", Meaning.OPTED_IN, True
    ),
    BrandOptIn.BRAND_DATABASE: OptInRow(
        "Opt-in for communications – from the brand database", Meaning.OPTED_IN, True
    ),
    BrandOptIn.STORAGE_ONLY: OptInRow(
        "Opt-in for storage only, contact has been implicitly informed of the storage of his data",
        Meaning.STORAGE_ONLY, True,
    ),
}

# Dates record "the last opt-in or opt-out status": values that are neither keep the previous date.
_DATED = frozenset({Meaning.OPTED_IN, Meaning.OPTED_OUT, Meaning.TEMPORARILY_OPTED_OUT})


def member_meaning(value: MemberOptIn) -> Meaning:
    """The meaning category of a member opt-in value."""
    return MEMBER_OPT_IN_TABLE[value].meaning


def brand_meaning(value: BrandOptIn) -> Meaning:
    """The meaning category of a brand opt-in value."""
    return BRAND_OPT_IN_TABLE[value].meaning


def visible_to_brand(value: BrandOptIn) -> bool:
    """Whether the guide displays a contact with this brand opt-in in the Manager."""
    return BRAND_OPT_IN_TABLE[value].visible_to_brand


def kept_for_brand(value: BrandOptIn) -> bool:
    """Whether a contact stays when its member's data goes ("except those having an opt-in for the Brand").

    Only an opt-in for communications is the brand's: "storage only" was never asked ("no opt-in
    obtained", the member table says), so it is no consent to keep the contact once its member left,
    although the Manager shows such a contact while it exists (docs/decisions/0022).
    """
    return brand_meaning(value) == Meaning.OPTED_IN


@dataclass(frozen=True)
class ConsentState:
    """A contact's two opt-in values and the date of each one's last opt-in or opt-out."""

    member: MemberOptIn
    brand: BrandOptIn
    member_at: datetime | None = None
    brand_at: datetime | None = None


def initial(member: MemberOptIn, brand: BrandOptIn, now: datetime) -> ConsentState:
    """A new contact's consent, dated when the values are an opt-in or an opt-out."""
    return ConsentState(
        member=member, brand=brand,
        member_at=now if member_meaning(member) in _DATED else None,
        brand_at=now if brand_meaning(brand) in _DATED else None,
    )


def with_member(state: ConsentState, value: MemberOptIn, now: datetime) -> ConsentState:
    """The state with a new member opt-in value (same value: unchanged, the date kept)."""
    if state.member == value:
        return state
    dated = now if member_meaning(value) in _DATED else state.member_at
    return replace(state, member=value, member_at=dated)


def with_brand(state: ConsentState, value: BrandOptIn, now: datetime) -> ConsentState:
    """The state with a new brand opt-in value (same value: unchanged, the date kept)."""
    if state.brand == value:
        return state
    dated = now if brand_meaning(value) in _DATED else state.brand_at
    return replace(state, brand=value, brand_at=dated)


class ConsentEvent(StrEnum):
    """What happens to a contact's consent after creation."""

    INVITATION_SENT = "invitation_sent"
    INVITATION_ACCEPTED = "invitation_accepted"
    INVITATION_DECLINED = "invitation_declined"
    # Second invitation period over without accept, decline, bounce or spam.
    INVITATION_UNANSWERED = "invitation_unanswered"
    OPT_OUT_FROM_EMAIL = "opt_out_from_email"
    GLOBAL_OPT_OUT = "global_opt_out"
    EMAIL_VERIFIED = "email_verified"
    BRAND_OPT_OUT = "brand_opt_out"
    BRAND_SYNC_OPT_IN = "brand_sync_opt_in"


class InvalidTransition(Conflict):
    code = "invalid-consent-transition"
    title = "This consent change does not apply to the contact's current state"


_INVITABLE = frozenset({MemberOptIn.NEW, MemberOptIn.INVITATION_SENT, MemberOptIn.STORAGE_ONLY})

# event -> (member values it applies from (None: any), member value it leads to)
_MEMBER_TRANSITIONS: dict[ConsentEvent, tuple[frozenset[MemberOptIn] | None, MemberOptIn]] = {
    ConsentEvent.INVITATION_SENT: (_INVITABLE, MemberOptIn.INVITATION_SENT),
    ConsentEvent.INVITATION_ACCEPTED: (frozenset({MemberOptIn.INVITATION_SENT}), MemberOptIn.INVITATION_ACCEPTED),
    ConsentEvent.INVITATION_DECLINED: (frozenset({MemberOptIn.INVITATION_SENT}), MemberOptIn.INVITATION_DECLINED),
    ConsentEvent.INVITATION_UNANSWERED: (frozenset({MemberOptIn.INVITATION_SENT}), MemberOptIn.OPT_OUT_NO_ACTION),
    ConsentEvent.OPT_OUT_FROM_EMAIL: (None, MemberOptIn.OPT_OUT_EMAIL),
    ConsentEvent.GLOBAL_OPT_OUT: (None, MemberOptIn.GLOBAL_OPT_OUT),
    ConsentEvent.EMAIL_VERIFIED: (frozenset({MemberOptIn.OPT_IN_BLOG_PENDING}), MemberOptIn.OPT_IN_BLOG_VERIFIED),
}


def transition(state: ConsentState, event: ConsentEvent, now: datetime) -> ConsentState:
    """The consent after `event`, dated `now`; an event that does not apply raises InvalidTransition.

    Repeating an event that already led to the current value changes nothing (idempotent
    provider and link callbacks). A global opt-out is final: only the brand's own values move after it.
    """
    if event == ConsentEvent.BRAND_OPT_OUT:
        return with_brand(state, BrandOptIn.NO_OPT_IN, now)
    if event == ConsentEvent.BRAND_SYNC_OPT_IN:
        # "this opt-in status is assigned to both Member opt-in and Brand opt-in", unless the
        # contact opted out of the member (the brand's import cannot overrule that refusal).
        synced = with_brand(state, BrandOptIn.BRAND_DATABASE, now)
        if member_meaning(state.member) == Meaning.OPTED_OUT:
            return synced
        return with_member(synced, MemberOptIn.OPT_IN_BRAND_IMPORTED, now)
    allowed_from, target = _MEMBER_TRANSITIONS[event]
    if state.member == target:
        return state
    if state.member == MemberOptIn.GLOBAL_OPT_OUT or (allowed_from is not None and state.member not in allowed_from):
        raise InvalidTransition(f"{event.value} does not apply to a contact in state {state.member.value}")
    return with_member(state, target, now)


Purpose = Literal["invitation", "member_publication", "brand_communication"]


def may_send(state: ConsentState, purpose: Purpose, *, email_blocked: bool = False) -> bool:
    """Whether an email of `purpose` may go to a contact in this state.

    Nothing goes to a contact not opted in for it; new (and storage-only) contacts may only
    receive an invitation; a blocked email status or blacklisted address receives nothing.
    """
    # Pending email confirmation counts as opted out for everyone (v3, blog pop-in).
    if email_blocked or member_meaning(state.member) == Meaning.TEMPORARILY_OPTED_OUT:
        return False
    if purpose == "invitation":
        return state.member in _INVITABLE
    if purpose == "member_publication":
        return member_meaning(state.member) == Meaning.OPTED_IN
    return brand_meaning(state.brand) == Meaning.OPTED_IN
