"""A form's contact day by day on the dev clock and timer: unconfirmed ones hashed at the end of the period.

Guide v4 "Contacts pending email confirmation": "If they never confirm their address, then data is
deleted within 15 days. Same parameter is used as in previous case" (invitationPendingDays).
"""

from __future__ import annotations

import pytest

from tests.crm.capture_world import BRAND


@pytest.mark.parametrize("days", [15, 5], ids=["the guide's 15 days", "a brand's 5 days"])
def test_an_unconfirmed_address_is_hashed_at_the_end_of_the_period_and_a_confirmed_one_kept(shop, days):
    if days != 15:  # the brand admin shortens the period in the Manager
        changed = shop.client.patch(f"/api/v1/manager/brands/{BRAND}", headers=shop.manager_token("admin", BRAND),
                                    json={"retention": {"invitationPendingDays": days}})
        assert changed.status_code == 200, changed.text
    hasher = shop.container.hasher(BRAND)
    shop.submit("never@example.com", firstName="Nina")
    shop.submit("yes@example.com", firstName="Yves")
    never_link, yes_link = shop.tokens()
    assert shop.confirm(yes_link).status_code == 200

    for _ in range(days - 1):
        shop.advance(1)
        shop.run_retention()
    by_hash = {doc["emailHash"]: doc for doc in shop.stored()}
    assert by_hash[hasher("email", "never@example.com")]["status"] == "active"  # the eve: still waiting

    shop.advance(1)
    report = shop.run_retention()
    assert report["brands"][BRAND]["contact_email_unconfirmed"]["erased"] == 1
    by_hash = {doc["emailHash"]: doc for doc in shop.stored()}
    gone = by_hash[hasher("email", "never@example.com")]
    assert gone["status"] == "erased" and gone["email"] is None and gone["firstName"] is None  # hashed, hash kept
    kept = by_hash[hasher("email", "yes@example.com")]
    assert kept["status"] == "active" and kept["email"] == "yes@example.com"
    assert [c["email"] for c in shop.member_sees()] == ["yes@example.com"]
    # The link of the address erased no longer works.
    late = shop.confirm(never_link)
    assert late.status_code == 410
    assert len(shop.mails()) == 2  # nothing else was ever sent


def test_a_person_whose_address_was_hashed_unconfirmed_may_leave_it_again(shop):
    shop.submit()
    for _ in range(15):
        shop.advance(1)
        shop.run_retention()
    [erased] = shop.stored()
    assert erased["status"] == "erased"

    assert shop.submit().status_code == 202
    first, second = shop.tokens()
    assert shop.confirm(second).status_code == 200
    assert [c["memberOptIn"]["value"] for c in shop.member_sees()] == ["opt_in_blog_verified"]
    statuses = sorted(doc["status"] for doc in shop.stored())
    assert statuses == ["active", "erased"]  # the old one stays hashed, for the statistics


def test_a_submission_on_a_later_day_does_not_move_the_deadline(shop):
    shop.submit()
    shop.advance(10)
    shop.submit()
    first, second = shop.tokens()
    shop.advance(5)
    shop.run_retention()
    assert shop.stored()[0]["status"] == "erased"
    assert shop.confirm(second).status_code == 410
