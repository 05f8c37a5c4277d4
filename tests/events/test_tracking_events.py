"""The tracking aggregator raises one event per counted click, page view and pick, with ids that
a redelivered batch raises again (so a subscriber, in process or on the queue, sees each once)."""

from __future__ import annotations

from datetime import timedelta

from shared.events.dispatcher import Subscription
from shared.events.model import DomainEvent
from shared.identity import activity
from shared.ports.bus import QUEUE_DOMAIN_EVENTS
from shared.tracking.messages import PageViewEvent, ProductPickEvent
from tests.events.test_dispatcher import drain, install
from tests.tracking.test_aggregator import BRAND, CLICK, CODE, deliver, ip, ref, store, visit  # noqa: F401 (fixture)


def recorder(container, *, out_of_process=False) -> list[DomainEvent]:
    seen: list[DomainEvent] = []
    install(container, Subscription(DomainEvent, "record", lambda platform, event: seen.append(event),
                                    out_of_process=out_of_process))
    return seen


def test_a_counted_click_raises_link_clicked_and_a_self_click_nothing(container, store):  # noqa: F811
    seen = recorder(container)
    activity.record(store=store, subject="m1", kind="login", method="password", now=container.clock.now(),
                    ip_hash=ip(container, "198.51.100.7"), user_agent_hash=None)
    deliver(container, visit(container, "v1"), visit(container, "self", address="198.51.100.7"))
    [clicked] = seen
    assert (clicked.name, clicked.member_id, clicked.code, clicked.link_id, clicked.source, clicked.internal) == (
        "LinkClicked", "m1", CODE, "l1", "facebook", False)
    assert clicked.brand_id == BRAND


def test_a_referred_page_view_and_picks_raise_their_events(container, store, clock):  # noqa: F811
    seen = recorder(container)
    deliver(container, visit(container, CLICK))
    clock.advance(timedelta(minutes=2))
    reference = ref(container, clicked_at=clock.now() - timedelta(minutes=2))
    deliver(container,
            PageViewEvent(eventId="p1", brandId=BRAND, at=clock.now(), reference=reference, path="/p/1"),
            PageViewEvent(eventId="p2", brandId=BRAND, at=clock.now(), path="/no-reference"),
            ProductPickEvent(eventId="k1", brandId=BRAND, at=clock.now(), productId="sku-1", reference=reference),
            ProductPickEvent(eventId="k2", brandId=BRAND, at=clock.now(), productId="sku-2", memberId="m2"))
    assert [(event.name, event.member_id) for event in seen] == [
        ("LinkClicked", "m1"), ("PageViewed", "m1"), ("ProductPicked", "m1"), ("ProductPicked", "m2")]
    assert (seen[1].path, seen[1].code) == ("/p/1", CODE)
    assert (seen[2].product_id, seen[2].code, seen[3].code) == ("sku-1", CODE, None)


def test_a_redelivered_batch_raises_nothing_new_and_the_queue_keeps_one_message_per_event(container, store):  # noqa: F811
    seen = recorder(container, out_of_process=True)
    deliver(container, visit(container, "v1"))
    deliver(container, visit(container, "v1"), delivery_count=2)  # counted already: a duplicate
    assert drain(container) == ["completed"]
    [clicked] = seen
    assert container.bus.receive(QUEUE_DOMAIN_EVENTS) == []
    assert clicked.name == "LinkClicked"
