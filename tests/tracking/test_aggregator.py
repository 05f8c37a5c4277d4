"""The tracking queue function: clicks, page views and picks become counters and visit records, once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from popsell.registry import queue_handlers
from shared.brands import service as brands
from shared.brands.models import BrandCreate
from shared.identity import repository
from shared.identity.models import Member, Role
from shared.messaging import worker
from shared.ports.bus import QUEUE_TRACKING_EVENTS, ReceivedMessage
from shared.store_schema import PLATFORM_SCOPE
from shared.tracking import aggregator, counters, link_codes, reference, visits
from shared.tracking.messages import PageViewEvent, ProductPickEvent, VisitEvent, to_message

BRAND = "acme"
CODE = "abcd1234"
CLICK = "click0001"


@pytest.fixture
def store(container):
    brands.create(store=container.store, clock=container.clock,
                  data=BrandCreate(id=BRAND, name="Acme", attributionWindowDays=30))
    store = container.store.for_brand(BRAND)
    for member_id in ("m1", "m2"):
        repository.save(store=store, container=repository.MEMBERS, model=Member(id=member_id, role=Role.VENDOR,
                                                                                status="active",
                                                          created_at=container.clock.now()), etag=None)
    code = link_codes.LinkCode(code=CODE, brand=BRAND, link_id="l1", member_id="m1", source="facebook",
                               target_kind="product", url="https://shop.example/p/1")
    container.store.for_brand(PLATFORM_SCOPE).create(link_codes.CONTAINER, link_codes.to_document(code))
    return store


def ip(container, address="203.0.113.5"):
    return container.hasher(BRAND)("ip", address)


def visit(container, event_id="v1", *, address="203.0.113.5", link_id="l1", member_id="m1", at=None,
          internal=False, source="facebook"):
    return VisitEvent(eventId=event_id, brandId=BRAND, at=at or container.clock.now(), internal=internal,
                      ipHash=ip(container, address) if address else None, code=CODE, linkId=link_id,
                      memberId=member_id, source=source, targetKind="product")


def ref(container, *, clicked_at=None, click_id=CLICK):
    return reference.sign(container.settings.hash_master_key, BRAND, code=CODE, click_id=click_id,
                          clicked_at=clicked_at or container.clock.now())


def deliver(container, *events, delivery_count=1):
    """Hand the events to the batch handler as one delivered batch (as the worker does)."""
    messages = []
    for event in events:
        message = to_message(event)
        messages.append(ReceivedMessage(body=message.body, message_id=message.message_id,
                                        delivery_count=delivery_count))
    return aggregator.aggregate(container=container, messages=messages)


def counter(store, member_id, *, day="2030-01-01", source="facebook", target_kind="product"):
    key = counters.CounterKey(member_id, day, source, target_kind)
    return store.find(counters.CONTAINER, key.id, pk=key.pk(BRAND)) or {}


def test_a_counted_click_feeds_the_member_and_the_brand_rollup(container, store):
    deliver(container, visit(container), visit(container, "v2", address="198.51.100.7", internal=True))

    for member_id in ("m1", counters.BRAND_ROLLUP):
        doc = counter(store, member_id)
        assert (doc["clicks"], doc["externalVisits"], doc["internalVisits"], doc["rejectedClicks"]) == (2, 1, 1, 0)


def test_the_same_visit_delivered_twice_counts_once(container, store):
    first = deliver(container, visit(container))
    second = deliver(container, visit(container), delivery_count=2)

    assert counter(store, "m1")["clicks"] == 1
    assert (first.counted_clicks, second.duplicates, second.counter_writes) == (1, 1, 0)


def test_a_duplicate_inside_one_batch_counts_once(container, store):
    result = deliver(container, visit(container), visit(container))
    assert counter(store, "m1")["clicks"] == 1 and result.duplicates == 1


def test_two_clicks_on_the_same_counter_make_one_patch_write_per_counter(container, store):
    result = deliver(container, visit(container, "v1"), visit(container, "v2", address="198.51.100.7"))

    # The member's counter, the brand roll-up and the two day totals: each written once for both clicks.
    assert result.distinct_counters == 4
    assert result.counter_writes == 4
    assert counter(store, "m1")["clicks"] == 2


def test_a_page_view_with_a_valid_reference_counts_and_keeps_the_visit(container, store, clock):
    deliver(container, visit(container, CLICK, internal=True))
    clock.advance(timedelta(minutes=2))
    key = container.hasher(BRAND)("customer_id", "CUST-42")
    page = PageViewEvent(eventId="p1", brandId=BRAND, at=clock.now(), reference=ref(container, clicked_at=
                         clock.now() - timedelta(minutes=2)), visitorKey=key, path="/p/1")

    result = deliver(container, page)

    assert counter(store, "m1")["pageViews"] == 1 and counter(store, "*")["pageViews"] == 1
    assert result.visit_records == 1
    kept = visits.last_visit(store=store, visitor_key=key, since=clock.now() - timedelta(days=1), until=clock.now())
    assert (kept.member_id, kept.code, kept.click_id, kept.source, kept.internal) == ("m1", CODE, CLICK, "facebook",
                                                                                      True)
    assert deliver(container, page).duplicates == 1
    assert counter(store, "m1")["pageViews"] == 1


@pytest.mark.parametrize("tamper", [
    lambda good: good[:-1] + ("0" if good[-1] != "0" else "1"),  # forged signature
    lambda good: "zzzz9999" + good[8:],  # another member's code, same signature
    lambda good: "not-a-reference",
])
def test_a_forged_reference_counts_nothing_and_keeps_nothing(container, store, tamper):
    key = container.hasher(BRAND)("visitor", "tmp-visitor-1")
    page = PageViewEvent(eventId="p1", brandId=BRAND, at=container.clock.now(), reference=tamper(ref(container)),
                         visitorKey=key)

    result = deliver(container, page)

    assert result.ignored == 1 and result.counter_writes == 0
    assert store.query_all(counters.CONTAINER) == []
    assert store.query_all(visits.CONTAINER) == []


def test_a_reference_older_than_the_window_is_not_attributed(container, store, clock):
    old = ref(container, clicked_at=clock.now() - timedelta(days=31))
    page = PageViewEvent(eventId="p1", brandId=BRAND, at=clock.now(), reference=old,
                         visitorKey=container.hasher(BRAND)("visitor", "tmp-visitor-1"))
    deliver(container, page)
    assert store.query_all(visits.CONTAINER) == [] and store.query_all(counters.CONTAINER) == []


def test_a_page_view_without_reference_is_ignored(container, store):
    result = deliver(container, PageViewEvent(eventId="p1", brandId=BRAND, at=container.clock.now(), path="/"))
    assert result.ignored == 1 and store.query_all(counters.CONTAINER) == []


@pytest.mark.parametrize(("with_ref", "member_id", "counted_for"), [
    (True, None, ("m1", "facebook", "product")),  # the referred member, on the link's source and target
    (True, "m2", ("m1", "facebook", "product")),  # the reference wins over the picking member
    (False, "m2", ("m2", "none", "none")),  # a member picking a product
    (False, "nobody", None),  # an unknown member: ignored
    (False, None, None),  # neither: ignored
])
def test_product_picks(container, store, with_ref, member_id, counted_for):
    pick = ProductPickEvent(eventId="k1", brandId=BRAND, at=container.clock.now(), productId="sku-1",
                            reference=ref(container) if with_ref else None, memberId=member_id)
    deliver(container, pick)
    docs = [doc for doc in store.query_all(counters.CONTAINER)
            if doc["memberId"] != counters.BRAND_ROLLUP and doc["source"] != counters.ALL]
    if counted_for is None:
        assert docs == []
    else:
        [doc] = docs
        assert (doc["memberId"], doc["source"], doc["targetKind"], doc["productPicks"]) == (*counted_for, 1)


def test_an_unknown_brand_is_rejected_alone(container, store):
    stray = visit(container, "v9").model_copy(update={"brand_id": "ghost"})
    result = deliver(container, stray, visit(container, "v1"))
    assert list(result.rejected) == ["visit:v9"]
    assert counter(store, "m1")["clicks"] == 1


def test_the_worker_runs_the_registered_batch_handler(container, store):
    container.bus.send(QUEUE_TRACKING_EVENTS, [to_message(visit(container, f"v{n}", address=f"198.51.100.{n}"))
                                               for n in range(40)])
    container.bus.send(QUEUE_TRACKING_EVENTS, [to_message(visit(container, "v1", address="198.51.100.1"))])
    handler = queue_handlers(container)[QUEUE_TRACKING_EVENTS]

    while worker.process_once(container.bus, QUEUE_TRACKING_EVENTS, handler):
        pass

    assert counter(store, "m1")["clicks"] == 40
    assert container.bus.dead_letters(QUEUE_TRACKING_EVENTS) == []
