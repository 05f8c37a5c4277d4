"""Domain events: in-process handlers run in the call that published, out-of-process ones through
the `domain-events` queue, each at least once and once per event id as far as the bus can tell."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import Field

from functions.queues.domain_events import domain_events_queue
from popsell.event_wiring import subscriptions
from popsell.registry import queue_handlers
from shared.adapters.servicebus_bus import to_servicebus_message
from shared.catalog import events as catalog_events
from shared.crm import events as crm_events
from shared.crm.views import OrderCustomer
from shared.events.dispatcher import Dispatcher, Subscription
from shared.events.model import DomainEvent, event_id
from shared.identity import events as identity_events
from shared.messaging import worker
from shared.ports.bus import QUEUE_DOMAIN_EVENTS, OutgoingMessage, ReceivedMessage
from shared.sales import events as sales_events
from shared.sales.events import OrderPlaced, OrderRefunded
from shared.tracking import events as tracking_events
from tests.test_servicebus_mapping import received_by_trigger

AT = datetime(2030, 1, 1, 9, tzinfo=UTC)


class Rang(DomainEvent):
    name: ClassVar[str] = "Rang"
    times: int = 1


class Answered(DomainEvent):
    name: ClassVar[str] = "Answered"
    secret: str | None = Field(None, exclude=True)


def rang(n: str = "1", **fields) -> Rang:
    return Rang(id=event_id("Rang", "acme", n), brand_id="acme", occurred_at=AT, **fields)


def drain(container) -> list[str]:
    """Run the domain-events queue through the process's own handler until it is empty; the outcomes."""
    handler = queue_handlers(container)[QUEUE_DOMAIN_EVENTS]
    outcomes = []
    while messages := container.bus.receive(QUEUE_DOMAIN_EVENTS):
        outcomes += [worker.handle(container.bus, QUEUE_DOMAIN_EVENTS, handler, message) for message in messages]
    return outcomes


def install(container, *subs: Subscription) -> Dispatcher:
    """This container's dispatcher with these subscriptions instead of the product's."""
    dispatcher = Dispatcher(container, subs)
    container.__dict__["events"] = dispatcher
    return dispatcher


def test_event_ids_are_derived_from_what_happened():
    assert event_id("OrderPlaced", "acme", "o-1", "commission") == event_id("OrderPlaced", "acme", "o-1", "commission")
    assert len({event_id("OrderPlaced", "acme", "o-1", "commission"), event_id("OrderPlaced", "acme", "o-1", "u1"),
                event_id("OrderPlaced", "acme", "o-2", "commission"),
                event_id("OrderPlaced", "other", "o-1", "commission")}) == 4
    # Parts are separated: ("ab", "c") and ("a", "bc") are different events.
    assert event_id("K", "ab", "c") != event_id("K", "a", "bc")


def test_in_process_handlers_run_in_the_publishing_call_in_the_declared_order(container):
    seen = []
    install(container,
            Subscription(Rang, "first", lambda platform, event: seen.append(("first", event.id))),
            Subscription(Rang, "second", lambda platform, event: seen.append(("second", event.id))),
            Subscription(Answered, "other", lambda platform, event: seen.append(("other", event.id))))
    container.events.publish(rang())
    assert seen == [("first", rang().id), ("second", rang().id)]
    assert container.bus.receive(QUEUE_DOMAIN_EVENTS) == []  # nothing went through the queue


def test_events_a_handler_returns_are_handled_before_the_next_handler_of_the_first(container):
    seen = []
    answer = Answered(id="a1", brand_id="acme", occurred_at=AT)
    install(container,
            Subscription(Rang, "answer", lambda platform, event: [answer]),
            Subscription(Answered, "on-answer", lambda platform, event: seen.append("answered")),
            Subscription(Rang, "after", lambda platform, event: seen.append("after the answer")))
    container.events.publish(rang())
    assert seen == ["answered", "after the answer"]


def test_a_subscription_to_a_base_event_gets_every_kind_of_it(container):
    seen = []
    install(container, Subscription(DomainEvent, "all", lambda platform, event: seen.append(event.name)))
    container.events.publish(rang(), Answered(id="a1", brand_id="acme", occurred_at=AT))
    assert seen == ["Rang", "Answered"]


def test_a_failing_in_process_handler_fails_the_call_and_queues_nothing(container):
    def broken(platform, event):
        raise RuntimeError("store down")

    install(container, Subscription(Rang, "queued", lambda platform, event: None, out_of_process=True),
            Subscription(Rang, "broken", broken))
    with pytest.raises(RuntimeError):
        container.events.publish(rang())
    assert container.bus.receive(QUEUE_DOMAIN_EVENTS) == []


def test_an_out_of_process_handler_runs_from_the_queue_once_per_event_and_handler(container):
    seen = []
    install(container, Subscription(Rang, "ring-log", lambda platform, event: seen.append((event.id, event.times)),
                                    out_of_process=True))
    container.events.publish(rang(times=3))
    assert seen == []  # not in the call
    container.events.publish(rang(times=3))  # the retry of a call raises the same event: the bus drops it
    assert drain(container) == ["completed"]
    assert seen == [(rang().id, 3)]


def test_a_redelivered_message_reaches_the_handler_again_which_must_be_idempotent(container):
    rings: set[str] = set()
    install(container, Subscription(Rang, "ring-set", lambda platform, event: rings.add(event.id),
                                    out_of_process=True))
    container.events.publish(rang())
    [message] = container.bus.receive(QUEUE_DOMAIN_EVENTS)
    assert message.message_id == f"{rang().id}:ring-set"
    container.events.deliver(message)
    container.events.deliver(ReceivedMessage(body=message.body, message_id=message.message_id, delivery_count=2))
    assert rings == {rang().id}


def test_personal_fields_never_travel_on_the_queue(container):
    install(container, Subscription(Answered, "later", lambda platform, event: None, out_of_process=True))
    container.events.publish(Answered(id="a1", brand_id="acme", occurred_at=AT, secret="zoe@example.com"))
    [message] = container.bus.receive(QUEUE_DOMAIN_EVENTS)
    assert "zoe@example.com" not in str(message.body)
    placed = OrderPlaced(id="e1", brand_id="acme", occurred_at=AT, order_id="o-1", member_id="m1",
                         change="commission", reason="last_click", customer=OrderCustomer(email="zoe@example.com"))
    assert "zoe" not in placed.model_dump_json()


def test_a_message_no_handler_here_knows_is_dead_lettered(container):
    install(container, Subscription(Rang, "ring-log", lambda platform, event: None, out_of_process=True))
    container.bus.send(QUEUE_DOMAIN_EVENTS, [
        to_outgoing({"event": "Rang", "handler": "gone", "data": rang().model_dump(mode="json", by_alias=True)}, "m1"),
        to_outgoing({"event": "Rang", "handler": "ring-log", "data": {"id": "x"}}, "m2")])
    assert drain(container) == ["dead-lettered", "dead-lettered"]


def to_outgoing(body: dict, message_id: str) -> OutgoingMessage:
    return OutgoingMessage(body=body, message_id=message_id)


def test_two_handlers_of_one_name_are_refused(container):
    with pytest.raises(ValueError, match="twice|two"):
        Dispatcher(container, [Subscription(Rang, "same", print), Subscription(Answered, "same", print)])


def test_the_functions_trigger_runs_the_handler_its_message_names(container):
    seen = []
    install(container, Subscription(Rang, "ring-log", lambda platform, event: seen.append(event.times),
                                    out_of_process=True))
    container.events.publish(rang(times=7))
    [message] = container.bus.receive(QUEUE_DOMAIN_EVENTS)
    sdk = to_servicebus_message(to_outgoing(message.body, message.message_id))
    domain_events_queue(received_by_trigger(sdk, delivery_count=1))
    assert seen == [7]


def test_the_product_subscribes_every_handler_once_by_name():
    names = [subscription.name for subscription in subscriptions()]
    assert len(names) == len(set(names))
    # An order's refund reaches the counters and the contact's sales line, not the contact maker.
    refunded = OrderRefunded(id="e", brand_id="acme", occurred_at=AT, order_id="o", member_id="m", change="r:1")
    dispatcher = Dispatcher(None, subscriptions())  # type: ignore[arg-type]  # never publishes here
    assert [sub.name for sub in dispatcher.handlers_of(refunded)] == ["sales.count-order", "crm.follow-sale"]


def _catalogue() -> dict[str, list[str]]:
    """docs/events.md's catalogue: each event and the handlers it lists (none yet: [])."""
    text = (Path(__file__).parents[2] / "docs" / "events.md").read_text()
    table = text.split("## The catalogue", 1)[1].split("###", 1)[0]
    rows = {}
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = re.findall(r"`([a-z-]+\.[a-z-]+)`", cells[3])
    return rows


def test_the_event_catalogue_lists_every_event_and_its_handlers_in_order():
    for module in (catalog_events, crm_events, identity_events, sales_events, tracking_events):
        assert module  # imported: every feature's events are declared
    kinds = {kind.name: kind for kind in _all_kinds(DomainEvent) if kind.name}
    subs = subscriptions()
    wired = {name: [sub.name for sub in subs if issubclass(kind, sub.event)] for name, kind in kinds.items()}
    assert _catalogue() == wired


def _all_kinds(base):
    for kind in base.__subclasses__():
        if kind.__module__.startswith("shared."):
            yield kind
            yield from _all_kinds(kind)
