"""The initial opt-in values each contact source gives, as the guide's "Contacts collection" prescribes.

Pure functions: the brand's settings, the source's parameters and `now` in, a ConsentState out;
a source the brand or the member may not use raises a 403 problem with its own type.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from shared.brands.models import Brand, Scenario
from shared.crm.consent import (
    BrandOptIn,
    ConsentEvent,
    ConsentState,
    Meaning,
    MemberOptIn,
    initial,
    member_meaning,
    transition,
)
from shared.crm.models import ContactSource
from shared.errors import Conflict, Forbidden
from shared.identity.models import Role

GDPR_APPLICATION = datetime(2018, 5, 25, tzinfo=UTC)


class ManualEntryDisabled(Forbidden):
    code = "manual-contact-entry-disabled"
    title = "Manual contact entry is deprecated since v4 and not enabled for this brand"


class BrandSyncNotAllowed(Forbidden):
    code = "brand-sync-not-allowed"
    title = "Brand database synchronisation is only for direct selling or employees"


class ContactNotOptedIn(Conflict):
    code = "contact-not-opted-in"
    title = "A store voucher needs a contact already opted in with the member"


@dataclass(frozen=True)
class SourceInput:
    """What a source knows when it creates a contact (unused fields are ignored by other sources)."""

    # Brand sync: the opt-in status sent by the brand (None: none sent).
    imported_opt_in: bool | None = None
    # Forms and pop-ins: the boxes the contact ticked.
    member_opt_in_asked: bool = False
    brand_opt_in_asked: bool = False
    # Store purchase: the consent of the contact already in the member's CRM.
    existing: ConsentState | None = None
    # Migration: when the contact was recorded and whether it has an activity history.
    recorded_at: datetime | None = None
    has_activity: bool = False


def manual(brand: Brand, now: datetime) -> ConsentState:
    """Manual entry or private-list import: deprecated in v4, refused unless the brand re-enabled it."""
    if not brand.manual_contact_entry:
        raise ManualEntryDisabled("Manual contact entry is turned off for this brand (deprecated since v4)")
    # New contacts are blocked except for an invitation; nothing shows them to the brand.
    return initial(MemberOptIn.NEW, BrandOptIn.NO_OPT_IN, now)


def brand_sync(brand: Brand, member_role: Role, imported_opt_in: bool | None, now: datetime) -> ConsentState:
    """Brand database sync: the imported opt-in applies to both; none gives member New, brand Storage only."""
    if brand.scenario != Scenario.DIRECT_SELLING and not member_role.under_contract:
        raise BrandSyncNotAllowed("Contacts are synchronised only in the direct-selling scenario or for employees")
    if imported_opt_in:
        return initial(MemberOptIn.OPT_IN_BRAND_IMPORTED, BrandOptIn.BRAND_DATABASE, now)
    return initial(MemberOptIn.NEW, BrandOptIn.STORAGE_ONLY, now)


def order(brand: Brand, now: datetime) -> ConsentState:
    """Created during an order: the brand opt-in parameter true gives order / brand database, else storage only."""
    if brand.brand_opt_in:
        return initial(MemberOptIn.OPT_IN_ORDER, BrandOptIn.BRAND_DATABASE, now)
    return initial(MemberOptIn.STORAGE_ONLY, BrandOptIn.STORAGE_ONLY, now)


def order_popin(brand: Brand, member_opt_in_asked: bool, now: datetime) -> ConsentState:
    """Order with the message pop-in (v3 case 8): the box shows only when the brand parameter is not true."""
    if brand.brand_opt_in:
        return order(brand, now)
    member = MemberOptIn.OPT_IN_ORDER_POPIN if member_opt_in_asked else MemberOptIn.STORAGE_ONLY
    return initial(member, BrandOptIn.STORAGE_ONLY, now)


def store_purchase(existing: ConsentState | None) -> ConsentState:
    """A store purchase with a voucher: the contact must already be opted in; its consent is unchanged."""
    if existing is None or member_meaning(existing.member) != Meaning.OPTED_IN:
        raise ContactNotOptedIn("The contact must already be opted in with the member to use a voucher")
    return existing


def external_form(member_opt_in_asked: bool, brand_opt_in_asked: bool, now: datetime) -> ConsentState:
    """External form: member New and brand Storage only, unless the form asked for each opt-in."""
    member = MemberOptIn.OPT_IN_EXTERNAL_FORM if member_opt_in_asked else MemberOptIn.NEW
    brand = BrandOptIn.EXTERNAL_FORM if brand_opt_in_asked else BrandOptIn.STORAGE_ONLY
    return initial(member, brand, now)


def blog_popin(member_opt_in_asked: bool, brand_opt_in_asked: bool, now: datetime) -> ConsentState:
    """Blog pop-in (v3 case 5): opted out until the email is confirmed; brand sees it only if ticked.

    An unticked member box leaves the member not authorised to contact them (v3 warning): storage only.
    """
    member = MemberOptIn.OPT_IN_BLOG_PENDING if member_opt_in_asked else MemberOptIn.STORAGE_ONLY
    brand = BrandOptIn.BLOG if brand_opt_in_asked else BrandOptIn.NO_OPT_IN
    return initial(member, brand, now)


def internal_form(member_opt_in_asked: bool, brand_opt_in_asked: bool, now: datetime) -> ConsentState:
    """Blog internal form (v3 case 6): like the pop-in, but an unticked brand box gives brand Storage only."""
    member = MemberOptIn.OPT_IN_INTERNAL_FORM if member_opt_in_asked else MemberOptIn.STORAGE_ONLY
    brand = BrandOptIn.INTERNAL_FORM if brand_opt_in_asked else BrandOptIn.STORAGE_ONLY
    return initial(member, brand, now)


def pre_gdpr(recorded_at: datetime, has_activity: bool, now: datetime) -> ConsentState:
    """Contacts recorded before 25 May 2018: an activity history gives an opt-in by default, else New.

    A contact recorded later gets no default: it is New like any other.
    """
    if recorded_at < GDPR_APPLICATION and has_activity:
        return initial(MemberOptIn.OTHER_OPT_IN, BrandOptIn.NO_OPT_IN, now)
    return initial(MemberOptIn.NEW, BrandOptIn.NO_OPT_IN, now)


def awaiting_confirmation(now: datetime) -> ConsentState:
    """Every form's contact until its address is confirmed: opted out for everyone, shown to no one.

    The guide has one "pending email verification" value (the blog pop-in's); v3 makes the internal
    form "similar to case 5", and the external form is routed the same way (decision 0023).
    """
    return initial(MemberOptIn.OPT_IN_BLOG_PENDING, BrandOptIn.NO_OPT_IN, now)


def confirmed(form: ContactSource, *, member_opt_in_asked: bool, brand_opt_in_asked: bool,
              now: datetime) -> ConsentState:
    """A form's values once the contact confirmed the address: the source's own, the blog's verified."""
    match form:
        case ContactSource.BLOG_POPIN:
            state = blog_popin(member_opt_in_asked, brand_opt_in_asked, now)
            if state.member == MemberOptIn.OPT_IN_BLOG_PENDING:
                state = transition(state, ConsentEvent.EMAIL_VERIFIED, now)
            return state
        case ContactSource.INTERNAL_FORM:
            return internal_form(member_opt_in_asked, brand_opt_in_asked, now)
        case ContactSource.EXTERNAL_FORM:
            return external_form(member_opt_in_asked, brand_opt_in_asked, now)
    raise ValueError(f"{form!r} is not a form whose contact confirms its address")


def initial_consent(
    source: ContactSource, *, brand: Brand, member_role: Role, params: SourceInput, now: datetime
) -> ConsentState:
    """The opt-in values a contact created by `source` starts with (raises when the source is not allowed)."""
    match source:
        case ContactSource.MANUAL | ContactSource.PRIVATE_LIST:
            return manual(brand, now)
        case ContactSource.BRAND_SYNC:
            return brand_sync(brand, member_role, params.imported_opt_in, now)
        case ContactSource.ORDER:
            return order(brand, now)
        case ContactSource.ORDER_POPIN:
            return order_popin(brand, params.member_opt_in_asked, now)
        case ContactSource.STORE_PURCHASE:
            return store_purchase(params.existing)
        case ContactSource.EXTERNAL_FORM:
            return external_form(params.member_opt_in_asked, params.brand_opt_in_asked, now)
        case ContactSource.BLOG_POPIN:
            return blog_popin(params.member_opt_in_asked, params.brand_opt_in_asked, now)
        case ContactSource.INTERNAL_FORM:
            return internal_form(params.member_opt_in_asked, params.brand_opt_in_asked, now)
        case ContactSource.PRE_GDPR:
            return pre_gdpr(params.recorded_at or now, params.has_activity, now)
    raise ValueError(f"unknown contact source {source!r}")
