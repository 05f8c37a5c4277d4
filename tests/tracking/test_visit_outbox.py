"""The redirect's write-behind buffer: nothing lost on a flush or a clean stop, kept across a failed send."""

from __future__ import annotations

import pytest

from shared.ports.bus import QUEUE_TRACKING_EVENTS, OutgoingMessage
from shared.tracking import visit_outbox
from shared.tracking.visit_outbox import VisitOutbox


def message(n: int) -> OutgoingMessage:
    return OutgoingMessage(body={"eventId": f"e{n}"}, message_id=f"visit:e{n}")


def queued(bus) -> list[str]:
    ids: list[str] = []
    while batch := bus.receive(QUEUE_TRACKING_EVENTS, max_messages=500):
        ids += [m.message_id for m in batch]
        for m in batch:
            bus.complete(QUEUE_TRACKING_EVENTS, m)
    return ids


@pytest.fixture
def outbox(container):
    box = VisitOutbox(container.bus, flush_ms=60_000)  # the thread never fires by itself within a test
    yield box
    box.close()


def test_nothing_is_sent_before_a_flush(outbox, container):
    outbox.put(message(1))
    assert outbox.pending() == 1
    assert queued(container.bus) == []


def test_events_reach_the_queue_in_order_and_in_batches(outbox, container):
    for n in range(250):
        outbox.put(message(n))

    outbox.flush()  # the thread may have sent the first full batches already: order holds either way

    assert outbox.pending() == 0
    assert queued(container.bus) == [f"visit:e{n}" for n in range(250)]


def test_a_failed_send_keeps_the_events_for_the_next_flush(outbox, container, monkeypatch):
    for n in range(3):
        outbox.put(message(n))
    real_send = container.bus.send

    def down(queue, messages):
        raise ConnectionError("queue unreachable")

    monkeypatch.setattr(container.bus, "send", down)
    assert outbox.flush() == 0
    assert outbox.pending() == 3

    monkeypatch.setattr(container.bus, "send", real_send)
    assert outbox.flush() == 3
    assert queued(container.bus) == ["visit:e0", "visit:e1", "visit:e2"]


def test_a_clean_stop_sends_what_is_left(container):
    box = VisitOutbox(container.bus, flush_ms=60_000)
    box.put(message(1))
    box.close()
    assert queued(container.bus) == ["visit:e1"]


def test_a_long_outage_drops_the_oldest_events_instead_of_growing_without_bound(container, monkeypatch):
    monkeypatch.setattr(visit_outbox, "MAX_PENDING", 5)
    monkeypatch.setattr(visit_outbox, "BATCH", 10_000)  # no early wake-up of the thread
    box = VisitOutbox(container.bus, flush_ms=60_000)
    for n in range(8):
        box.put(message(n))
    assert box.pending() == 5 and box.dropped == 3
    box.close()
    assert queued(container.bus) == [f"visit:e{n}" for n in range(3, 8)]


def test_immediate_mode_sends_during_the_call(container):
    box = VisitOutbox(container.bus, flush_ms=0)
    box.put(message(7))
    assert box.pending() == 0
    assert queued(container.bus) == ["visit:e7"]
