"""The consent state machine: every value of the guide with its meaning, transitions with dates, sending rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.crm.consent import (
    BRAND_OPT_IN_TABLE,
    MEMBER_OPT_IN_TABLE,
    BrandOptIn,
    ConsentEvent,
    InvalidTransition,
    Meaning,
    MemberOptIn,
    initial,
    kept_for_brand,
    may_send,
    transition,
    visible_to_brand,
)

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=3)

MEMBER_MEANINGS = [
    (MemberOptIn.NEW, "New record", Meaning.NO_KNOWN_STATUS),
    (MemberOptIn.INVITATION_SENT, "Invitation sent", Meaning.NO_KNOWN_STATUS),
    (MemberOptIn.INVITATION_ACCEPTED, "Invitation accepted", Meaning.OPTED_IN),
    (MemberOptIn.INVITATION_DECLINED, "Invitation declined", Meaning.OPTED_OUT),
    (MemberOptIn.OPT_OUT_EMAIL, "Opt-out from an email", Meaning.OPTED_OUT),
    (MemberOptIn.OPT_OUT_NO_ACTION, "Opt-out no action from an invitation email", Meaning.OPTED_OUT),
    (MemberOptIn.GLOBAL_OPT_OUT, "Global opt-out", Meaning.OPTED_OUT),
    (MemberOptIn.SOCIAL_MEDIA_ONLY, "Social media only", Meaning.NO_KNOWN_STATUS),
    (MemberOptIn.OPT_IN_BRAND_IMPORTED, "Opt-in from Brand - imported", Meaning.OPTED_IN),
    (MemberOptIn.OPT_IN_BLOG_PENDING, "Opt-in from blog popin pending email verification",
     Meaning.TEMPORARILY_OPTED_OUT),
    (MemberOptIn.OPT_IN_BLOG_VERIFIED, "Opt-in from blog popin + email verified", Meaning.OPTED_IN),
    (MemberOptIn.OPT_IN_INTERNAL_FORM, "Opt-in from internal form", Meaning.OPTED_IN),
    (MemberOptIn.OPT_IN_EXTERNAL_FORM, "Opt-in from external form", Meaning.OPTED_IN),
    (MemberOptIn.OPT_IN_ORDER, "Opt-in from order", Meaning.OPTED_IN),
    (MemberOptIn.OPT_IN_ORDER_POPIN, "Opt-in from order pop-in", Meaning.OPTED_IN),
    (MemberOptIn.OTHER_OPT_IN, "Other Opt-in", Meaning.OPTED_IN),
    (MemberOptIn.STORAGE_ONLY, "Storage only", Meaning.STORAGE_ONLY),
]

BRAND_MEANINGS = [
    (BrandOptIn.NO_OPT_IN, "No opt-in", Meaning.NO_KNOWN_STATUS, False),
    (BrandOptIn.BLOG, "from Popsell blog", Meaning.OPTED_IN, True),
    (BrandOptIn.INTERNAL_FORM, "from Popsell internal form", Meaning.OPTED_IN, True),
    (BrandOptIn.EXTERNAL_FORM, "from Popsell external form", Meaning.OPTED_IN, True),
    (BrandOptIn.BRAND_DATABASE, "from the brand database", Meaning.OPTED_IN, True),
    (BrandOptIn.STORAGE_ONLY, "Opt-in for storage only", Meaning.STORAGE_ONLY, True),
]


def test_every_value_of_the_guide_has_exactly_one_row():
    assert {row[0] for row in MEMBER_MEANINGS} == set(MemberOptIn) == set(MEMBER_OPT_IN_TABLE)
    assert {row[0] for row in BRAND_MEANINGS} == set(BrandOptIn) == set(BRAND_OPT_IN_TABLE)


@pytest.mark.parametrize(("value", "wording", "meaning"), MEMBER_MEANINGS, ids=[r[0].value for r in MEMBER_MEANINGS])
def test_member_opt_in_values_carry_the_guide_wording_and_meaning(value, wording, meaning):
    assert MEMBER_OPT_IN_TABLE[value].wording.startswith(wording)
    assert MEMBER_OPT_IN_TABLE[value].meaning == meaning


@pytest.mark.parametrize(("value", "wording", "meaning", "shown"), BRAND_MEANINGS,
                         ids=[r[0].value for r in BRAND_MEANINGS])
def test_brand_opt_in_values_carry_the_guide_wording_meaning_and_visibility(value, wording, meaning, shown):
    assert wording in BRAND_OPT_IN_TABLE[value].wording
    assert BRAND_OPT_IN_TABLE[value].meaning == meaning
    assert visible_to_brand(value) is shown


def test_only_an_opt_in_for_communications_keeps_a_contact_its_member_leaves():
    """Storage only is shown to the brand, yet it is no opt-in: the contact goes with its member (decision 0022)."""
    kept = {value for value in BrandOptIn if kept_for_brand(value)}
    assert kept == {BrandOptIn.BLOG, BrandOptIn.INTERNAL_FORM, BrandOptIn.EXTERNAL_FORM, BrandOptIn.BRAND_DATABASE}
    assert visible_to_brand(BrandOptIn.STORAGE_ONLY) and not kept_for_brand(BrandOptIn.STORAGE_ONLY)


TRANSITIONS = [
    (MemberOptIn.NEW, ConsentEvent.INVITATION_SENT, MemberOptIn.INVITATION_SENT),
    (MemberOptIn.STORAGE_ONLY, ConsentEvent.INVITATION_SENT, MemberOptIn.INVITATION_SENT),
    (MemberOptIn.INVITATION_SENT, ConsentEvent.INVITATION_ACCEPTED, MemberOptIn.INVITATION_ACCEPTED),
    (MemberOptIn.INVITATION_SENT, ConsentEvent.INVITATION_DECLINED, MemberOptIn.INVITATION_DECLINED),
    (MemberOptIn.INVITATION_SENT, ConsentEvent.INVITATION_UNANSWERED, MemberOptIn.OPT_OUT_NO_ACTION),
    (MemberOptIn.INVITATION_ACCEPTED, ConsentEvent.OPT_OUT_FROM_EMAIL, MemberOptIn.OPT_OUT_EMAIL),
    (MemberOptIn.OPT_IN_ORDER, ConsentEvent.GLOBAL_OPT_OUT, MemberOptIn.GLOBAL_OPT_OUT),
    (MemberOptIn.OPT_IN_BLOG_PENDING, ConsentEvent.EMAIL_VERIFIED, MemberOptIn.OPT_IN_BLOG_VERIFIED),
    (MemberOptIn.NEW, ConsentEvent.BRAND_SYNC_OPT_IN, MemberOptIn.OPT_IN_BRAND_IMPORTED),
    (MemberOptIn.OPT_OUT_EMAIL, ConsentEvent.BRAND_SYNC_OPT_IN, MemberOptIn.OPT_OUT_EMAIL),
]


@pytest.mark.parametrize(("before", "event", "after"), TRANSITIONS, ids=[f"{r[0]}-{r[1]}" for r in TRANSITIONS])
def test_events_move_the_member_opt_in_as_the_guide_says(before, event, after):
    state = transition(initial(before, BrandOptIn.NO_OPT_IN, T0), event, T1)
    assert state.member == after


def test_a_changed_opt_in_is_dated_and_a_repeated_event_keeps_the_first_date():
    sent = transition(initial(MemberOptIn.NEW, BrandOptIn.NO_OPT_IN, T0), ConsentEvent.INVITATION_SENT, T0)
    accepted = transition(sent, ConsentEvent.INVITATION_ACCEPTED, T1)
    assert accepted.member_at == T1
    assert transition(accepted, ConsentEvent.INVITATION_ACCEPTED, T1 + timedelta(days=1)) == accepted
    brand_out = transition(initial(MemberOptIn.NEW, BrandOptIn.BLOG, T0), ConsentEvent.BRAND_OPT_OUT, T1)
    assert brand_out.brand == BrandOptIn.NO_OPT_IN


@pytest.mark.parametrize(("before", "event"), [
    (MemberOptIn.INVITATION_DECLINED, ConsentEvent.INVITATION_SENT),  # no second invitation after a refusal
    (MemberOptIn.NEW, ConsentEvent.INVITATION_ACCEPTED),
    (MemberOptIn.GLOBAL_OPT_OUT, ConsentEvent.OPT_OUT_FROM_EMAIL),
    (MemberOptIn.OPT_IN_ORDER, ConsentEvent.EMAIL_VERIFIED),
])
def test_an_event_that_does_not_apply_is_refused(before, event):
    with pytest.raises(InvalidTransition):
        transition(initial(before, BrandOptIn.NO_OPT_IN, T0), event, T1)


@pytest.mark.parametrize(("member", "brand", "invitation", "publication", "brand_mail"), [
    (MemberOptIn.NEW, BrandOptIn.NO_OPT_IN, True, False, False),  # new: blocked except an invitation
    (MemberOptIn.INVITATION_SENT, BrandOptIn.NO_OPT_IN, True, False, False),
    (MemberOptIn.STORAGE_ONLY, BrandOptIn.STORAGE_ONLY, True, False, False),
    (MemberOptIn.INVITATION_ACCEPTED, BrandOptIn.NO_OPT_IN, False, True, False),
    (MemberOptIn.OPT_IN_ORDER, BrandOptIn.BRAND_DATABASE, False, True, True),
    (MemberOptIn.INVITATION_DECLINED, BrandOptIn.NO_OPT_IN, False, False, False),
    (MemberOptIn.OPT_IN_BLOG_PENDING, BrandOptIn.BLOG, False, False, False),  # until confirmed
    (MemberOptIn.SOCIAL_MEDIA_ONLY, BrandOptIn.NO_OPT_IN, False, False, False),
])
def test_nothing_is_sent_to_a_contact_not_opted_in_for_it(member, brand, invitation, publication, brand_mail):
    state = initial(member, brand, T0)
    assert may_send(state, "invitation") is invitation
    assert may_send(state, "member_publication") is publication
    assert may_send(state, "brand_communication") is brand_mail
    assert not may_send(state, "member_publication", email_blocked=True)
