"""A contact's consent moving raises ContactConsentChanged: ids and opt-in values, never the address;
a write that moves nothing raises nothing, and the same provider callback twice raises it once."""

from __future__ import annotations

from shared.brands import service as brands
from shared.crm import contact_journal
from shared.crm.consent import BrandOptIn, MemberOptIn
from shared.crm.events import ContactConsentChanged
from tests.crm.test_provider_events import (  # noqa: F401 (fixtures)
    BRAND,
    EMAIL,
    WEBHOOK,
    _auth,
    _drain,
    _event,
    contact,
    hook_client,
)
from tests.events.test_member_events import recorded


def test_a_global_opt_out_raises_one_consent_change_and_a_second_one_nothing(container, contact):  # noqa: F811
    seen = recorded(container, ContactConsentChanged)
    for _ in range(2):
        contact_journal.global_opt_out(store=container.store.for_brand(BRAND), journal=container.journal(BRAND),
                                       events=container.events, brand=brands.get(store=container.store,
                                                                                 brand_id=BRAND),
                                       contact_id=contact.id, now=container.clock.now(), brand_too=True)
    [changed] = seen
    assert (changed.contact_id, changed.member_id, changed.cause) == (contact.id, "m1", "global_opt_out")
    assert (changed.member_opt_in, changed.brand_opt_in) == (MemberOptIn.GLOBAL_OPT_OUT, BrandOptIn.NO_OPT_IN)
    assert EMAIL not in changed.model_dump_json() and "Zoe" not in changed.model_dump_json()


def test_an_unsubscribe_from_the_providers_callback_raises_it_once_even_sent_twice(hook_client, container,  # noqa: F811
                                                                                   contact):  # noqa: F811
    seen = recorded(container, ContactConsentChanged)
    for _ in range(2):  # the provider retries its callback
        hook_client.post(WEBHOOK, headers=_auth(), json=[_event("unsub", contact.id)])
        _drain(container)
    [changed] = seen
    assert (changed.cause, changed.member_opt_in) == ("opt_out_from_email", MemberOptIn.OPT_OUT_EMAIL)


def test_an_open_or_a_click_moves_no_consent_and_raises_nothing(hook_client, container, contact):  # noqa: F811
    seen = recorded(container, ContactConsentChanged)
    hook_client.post(WEBHOOK, headers=_auth(), json=[_event("open", contact.id), _event("click", contact.id,
                                                                                        message_id=43)])
    _drain(container)
    assert seen == []
