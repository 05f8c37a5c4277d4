"""Each contact source produces the opt-in values the guide prescribes (one row per source and parameter)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.brands.models import Brand, Scenario
from shared.crm import sources
from shared.crm.consent import BrandOptIn as B
from shared.crm.consent import MemberOptIn as M
from shared.crm.consent import initial
from shared.crm.models import ContactSource as S
from shared.crm.sources import SourceInput
from shared.identity.models import Role

NOW = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


def brand(*, scenario=Scenario.CLASSIC, brand_opt_in=None, manual=False) -> Brand:
    return Brand(id="acme", name="Acme", scenario=scenario, brand_opt_in=brand_opt_in, manual_contact_entry=manual,
                 created_at=NOW, updated_at=NOW)


SOURCE_ROWS = [
    # (case, source, brand, member role, params, member opt-in, brand opt-in)
    ("sync, direct selling, opt-in imported", S.BRAND_SYNC, brand(scenario=Scenario.DIRECT_SELLING), Role.AMBASSADOR,
     SourceInput(imported_opt_in=True), M.OPT_IN_BRAND_IMPORTED, B.BRAND_DATABASE),
    ("sync, direct selling, no opt-in imported", S.BRAND_SYNC, brand(scenario=Scenario.DIRECT_SELLING),
     Role.AMBASSADOR, SourceInput(imported_opt_in=None), M.NEW, B.STORAGE_ONLY),
    ("sync, employee, opt-in imported", S.BRAND_SYNC, brand(), Role.EMPLOYEE, SourceInput(imported_opt_in=True),
     M.OPT_IN_BRAND_IMPORTED, B.BRAND_DATABASE),
    ("sync, employee, opt-in false", S.BRAND_SYNC, brand(), Role.VENDOR, SourceInput(imported_opt_in=False),
     M.NEW, B.STORAGE_ONLY),
    ("order, brand opt-in parameter true", S.ORDER, brand(brand_opt_in=True), Role.AMBASSADOR, SourceInput(),
     M.OPT_IN_ORDER, B.BRAND_DATABASE),
    ("order, brand opt-in parameter false", S.ORDER, brand(brand_opt_in=False), Role.AMBASSADOR, SourceInput(),
     M.STORAGE_ONLY, B.STORAGE_ONLY),
    ("order, brand opt-in parameter not set", S.ORDER, brand(brand_opt_in=None), Role.AMBASSADOR, SourceInput(),
     M.STORAGE_ONLY, B.STORAGE_ONLY),
    ("order pop-in, parameter true", S.ORDER_POPIN, brand(brand_opt_in=True), Role.AMBASSADOR,
     SourceInput(member_opt_in_asked=False), M.OPT_IN_ORDER, B.BRAND_DATABASE),
    ("order pop-in, box ticked", S.ORDER_POPIN, brand(), Role.AMBASSADOR, SourceInput(member_opt_in_asked=True),
     M.OPT_IN_ORDER_POPIN, B.STORAGE_ONLY),
    ("order pop-in, box not ticked", S.ORDER_POPIN, brand(), Role.AMBASSADOR, SourceInput(), M.STORAGE_ONLY,
     B.STORAGE_ONLY),
    ("store purchase, contact already opted in", S.STORE_PURCHASE, brand(), Role.AMBASSADOR,
     SourceInput(existing=initial(M.INVITATION_ACCEPTED, B.NO_OPT_IN, NOW)), M.INVITATION_ACCEPTED,
     B.NO_OPT_IN),
    ("external form, nothing asked", S.EXTERNAL_FORM, brand(), Role.AMBASSADOR, SourceInput(), M.NEW,
     B.STORAGE_ONLY),
    ("external form, member opt-in asked", S.EXTERNAL_FORM, brand(), Role.AMBASSADOR,
     SourceInput(member_opt_in_asked=True), M.OPT_IN_EXTERNAL_FORM, B.STORAGE_ONLY),
    ("external form, both asked", S.EXTERNAL_FORM, brand(), Role.AMBASSADOR,
     SourceInput(member_opt_in_asked=True, brand_opt_in_asked=True), M.OPT_IN_EXTERNAL_FORM, B.EXTERNAL_FORM),
    ("blog pop-in, both ticked", S.BLOG_POPIN, brand(), Role.AMBASSADOR,
     SourceInput(member_opt_in_asked=True, brand_opt_in_asked=True), M.OPT_IN_BLOG_PENDING, B.BLOG),
    ("blog pop-in, member box only", S.BLOG_POPIN, brand(), Role.AMBASSADOR, SourceInput(member_opt_in_asked=True),
     M.OPT_IN_BLOG_PENDING, B.NO_OPT_IN),
    ("blog internal form, brand box not ticked", S.INTERNAL_FORM, brand(), Role.AMBASSADOR,
     SourceInput(member_opt_in_asked=True), M.OPT_IN_INTERNAL_FORM, B.STORAGE_ONLY),
    ("blog internal form, both ticked", S.INTERNAL_FORM, brand(), Role.AMBASSADOR,
     SourceInput(member_opt_in_asked=True, brand_opt_in_asked=True), M.OPT_IN_INTERNAL_FORM, B.INTERNAL_FORM),
    ("manual entry, brand re-enabled it", S.MANUAL, brand(manual=True), Role.AMBASSADOR, SourceInput(), M.NEW,
     B.NO_OPT_IN),
    ("private-list import, brand re-enabled it", S.PRIVATE_LIST, brand(manual=True), Role.AMBASSADOR,
     SourceInput(), M.NEW, B.NO_OPT_IN),
    ("before 25 May 2018, with activity", S.PRE_GDPR, brand(), Role.AMBASSADOR,
     SourceInput(recorded_at=datetime(2017, 3, 1, tzinfo=UTC), has_activity=True), M.OTHER_OPT_IN, B.NO_OPT_IN),
    ("before 25 May 2018, no activity", S.PRE_GDPR, brand(), Role.AMBASSADOR,
     SourceInput(recorded_at=datetime(2017, 3, 1, tzinfo=UTC), has_activity=False), M.NEW, B.NO_OPT_IN),
    ("on 25 May 2018, with activity: no default opt-in", S.PRE_GDPR, brand(), Role.AMBASSADOR,
     SourceInput(recorded_at=datetime(2018, 5, 25, tzinfo=UTC), has_activity=True), M.NEW, B.NO_OPT_IN),
]


@pytest.mark.parametrize(("case", "source", "brand_", "role", "params", "member", "brand_value"), SOURCE_ROWS,
                         ids=[row[0] for row in SOURCE_ROWS])
def test_each_contact_source_produces_the_opt_in_values_the_guide_prescribes(
    case, source, brand_, role, params, member, brand_value
):
    state = sources.initial_consent(source, brand=brand_, member_role=role, params=params, now=NOW)
    assert (state.member, state.brand) == (member, brand_value)


REFUSED_ROWS = [
    ("sync, classic scenario, ambassador", S.BRAND_SYNC, brand(), Role.AMBASSADOR, SourceInput(imported_opt_in=True),
     "brand-sync-not-allowed"),
    ("manual entry, deprecated and off", S.MANUAL, brand(), Role.AMBASSADOR, SourceInput(),
     "manual-contact-entry-disabled"),
    ("private-list import, deprecated and off", S.PRIVATE_LIST, brand(scenario=Scenario.DIRECT_SELLING), Role.VENDOR,
     SourceInput(), "manual-contact-entry-disabled"),
    ("store purchase, contact not in the CRM", S.STORE_PURCHASE, brand(), Role.AMBASSADOR, SourceInput(),
     "contact-not-opted-in"),
    ("store purchase, contact only new", S.STORE_PURCHASE, brand(), Role.AMBASSADOR,
     SourceInput(existing=initial(M.NEW, B.NO_OPT_IN, NOW)), "contact-not-opted-in"),
]


@pytest.mark.parametrize(("case", "source", "brand_", "role", "params", "code"), REFUSED_ROWS,
                         ids=[row[0] for row in REFUSED_ROWS])
def test_a_source_the_guide_does_not_allow_is_refused_with_its_own_problem_type(case, source, brand_, role, params,
                                                                                 code):
    with pytest.raises(Exception) as refused:
        sources.initial_consent(source, brand=brand_, member_role=role, params=params, now=NOW)
    assert refused.value.code == code


def test_opt_in_dates_are_set_only_for_an_opt_in_or_opt_out():
    assert sources.order(brand(brand_opt_in=True), NOW).member_at == NOW
    stored = sources.order(brand(), NOW)
    assert stored.member_at is None and stored.brand_at is None


CONFIRMED_ROWS = [
    # (form, member box, brand box, member opt-in once the address is confirmed, brand opt-in)
    (S.BLOG_POPIN, True, True, M.OPT_IN_BLOG_VERIFIED, B.BLOG),
    (S.BLOG_POPIN, False, False, M.STORAGE_ONLY, B.NO_OPT_IN),
    (S.INTERNAL_FORM, True, False, M.OPT_IN_INTERNAL_FORM, B.STORAGE_ONLY),
    (S.INTERNAL_FORM, False, True, M.STORAGE_ONLY, B.INTERNAL_FORM),
    (S.EXTERNAL_FORM, True, True, M.OPT_IN_EXTERNAL_FORM, B.EXTERNAL_FORM),
    (S.EXTERNAL_FORM, False, False, M.NEW, B.STORAGE_ONLY),
]


@pytest.mark.parametrize(("form", "member_box", "brand_box", "member", "brand_value"), CONFIRMED_ROWS)
def test_a_forms_contact_waits_pending_then_gets_its_sources_values_once_confirmed(
        form, member_box, brand_box, member, brand_value):
    waiting = sources.awaiting_confirmation(NOW)
    assert (waiting.member, waiting.brand) == (M.OPT_IN_BLOG_PENDING, B.NO_OPT_IN)
    state = sources.confirmed(form, member_opt_in_asked=member_box, brand_opt_in_asked=brand_box, now=NOW)
    assert (state.member, state.brand) == (member, brand_value)


def test_only_a_form_has_a_confirmed_state():
    with pytest.raises(ValueError):
        sources.confirmed(S.ORDER, member_opt_in_asked=True, brand_opt_in_asked=True, now=NOW)
