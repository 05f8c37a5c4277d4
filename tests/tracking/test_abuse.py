"""Abuse rules: self-clicks, repeated clicks and floods from one hashed IP are kept apart as rejectedClicks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.identity import activity
from shared.tracking import abuse
from tests.tracking.test_aggregator import counter, deliver, ip, store, visit  # noqa: F401 (fixture)


def login(container, store, *, member_id="m1", address="203.0.113.5", user_agent=None):  # noqa: F811
    activity.record(store=store, subject=member_id, kind="login", method="password", now=container.clock.now(),
                    ip_hash=ip(container, address),
                    user_agent_hash=container.hasher("acme")("user_agent", user_agent) if user_agent else None)


def clicks(store, day="2030-01-01"):  # noqa: F811
    doc = counter(store, "m1", day=day)
    return doc.get("clicks", 0), doc.get("rejectedClicks", 0)


def test_a_member_clicking_their_own_link_is_not_counted(container, store):  # noqa: F811
    login(container, store)
    deliver(container, visit(container, "v1"), visit(container, "v2", address="198.51.100.7"))
    assert clicks(store) == (1, 1)
    assert counter(store, "*")["rejectedClicks"] == 1


def test_another_members_login_from_that_address_does_not_make_it_a_self_click(container, store):  # noqa: F811
    login(container, store, member_id="m2")
    deliver(container, visit(container))
    assert clicks(store) == (1, 0)


def test_an_old_login_no_longer_marks_the_address(container, store, clock):  # noqa: F811
    login(container, store)
    clock.advance(abuse.SELF_CLICK_LOOKBACK + timedelta(hours=1))
    deliver(container, visit(container))
    assert clicks(store, day="2030-01-08") == (1, 0)


@pytest.mark.parametrize(("same_browser", "rejected"), [(True, 1), (False, 0)])
def test_in_store_a_shared_network_needs_the_same_browser_too(container, store, same_browser, rejected):  # noqa: F811
    login(container, store, user_agent="VendorPhone/1.0")
    event = visit(container, source="in_store")
    if same_browser:
        event = event.model_copy(update={"ua_hash": container.hasher("acme")("user_agent", "VendorPhone/1.0")})
    deliver(container, event)
    assert counter(store, "m1", source="in_store").get("rejectedClicks", 0) == rejected


def test_one_address_on_one_link_counts_once_per_half_hour(container, store, clock):  # noqa: F811
    deliver(container, visit(container, "v1"))
    clock.advance(timedelta(minutes=29))
    deliver(container, visit(container, "v2", at=clock.now()))
    clock.advance(timedelta(minutes=2))
    deliver(container, visit(container, "v3", at=clock.now()))
    assert clicks(store) == (2, 1)


def test_a_flood_from_one_address_is_refused_past_the_hourly_limit(container, store, clock):  # noqa: F811
    events = [visit(container, f"v{n}", link_id=f"l{n}") for n in range(abuse.MAX_CLICKS_PER_IP_HOUR + 5)]
    deliver(container, *events[:20])
    deliver(container, *events[20:])
    assert clicks(store) == (abuse.MAX_CLICKS_PER_IP_HOUR, 5)
    clock.advance(timedelta(hours=1))
    deliver(container, visit(container, "next-hour", link_id="l-new", at=clock.now()))
    assert clicks(store) == (abuse.MAX_CLICKS_PER_IP_HOUR + 1, 5)


def test_a_redelivered_batch_is_judged_as_the_first_time(container, store):  # noqa: F811
    # A batch that failed before its claims comes again: its own 30-minute window must not refuse it.
    event = visit(container)
    assert abuse.verdict(store=store, prints=abuse.LoginPrints(store, since=container.clock.now()), visit=event) is None
    deliver(container, event, delivery_count=2)
    assert clicks(store) == (1, 0)


def test_self_clicks_and_floods_keep_their_verdict_for_attribution_not_duplicates(container, store, clock):  # noqa: F811
    from shared.tracking import click_verdicts

    login(container, store)
    flood = [visit(container, f"f{n}", address="192.0.2.9", link_id=f"l{n}")
             for n in range(abuse.MAX_CLICKS_PER_IP_HOUR + 1)]
    deliver(container, visit(container, "self"), visit(container, "first", address="198.51.100.7"),
            visit(container, "again", address="198.51.100.7"), *flood)
    now = clock.now()
    clicks_judged = ("self", "first", "again", flood[-1].event_id)
    verdicts = {click: click_verdicts.rejected(store=store, click_id=click, clicked_at=now) for click in clicks_judged}
    assert verdicts == {"self": "self_click", "first": None, "again": None, flood[-1].event_id: "flood"}
    record = store.get(click_verdicts.CONTAINER, "visit:self", pk=click_verdicts.partition("acme", now))
    assert record["ttl"] == 30 * 86400  # the brand's attribution window, not the queue's 7 days
