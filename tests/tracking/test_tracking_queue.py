"""Batch handlers in the local worker: malformed messages dead-lettered one by one, a failing batch abandoned."""

from __future__ import annotations

import threading

import pytest

from popsell.registry import queue_handlers
from shared.adapters.sqlite_bus import SqliteMessageBus
from shared.errors import PermanentError
from shared.messaging import worker
from shared.ports.bus import QUEUE_TRACKING_EVENTS, OutgoingMessage, ReceivedMessage
from shared.tracking.messages import to_message
from tests.tracking.test_aggregator import counter, store, visit  # noqa: F401 (fixture)

QUEUE = QUEUE_TRACKING_EVENTS


@pytest.fixture
def bus(tmp_path, clock):
    bus = SqliteMessageBus(tmp_path / "bus.sqlite3", clock=clock, max_delivery_count=3)
    yield bus
    bus.close()


def send(bus, count):
    bus.send(QUEUE, [OutgoingMessage(body={"n": n}, message_id=f"m{n}") for n in range(count)])


def test_a_batch_handler_gets_up_to_a_batch_of_messages_at_once(bus):
    send(bus, worker.BATCH_SIZE + 8)
    sizes: list[int] = []
    handler = worker.BatchHandler(lambda messages: sizes.append(len(messages)))

    while worker.process_once(bus, QUEUE, handler):
        pass

    assert sizes == [worker.BATCH_SIZE, 8]
    assert bus.dead_letters(QUEUE) == []


def test_rejected_messages_are_dead_lettered_alone_and_the_others_completed(bus):
    send(bus, 3)

    def reject_one(messages: list[ReceivedMessage]) -> dict[str, Exception]:
        return {"m1": PermanentError("unknown brand")}

    worker.process_once(bus, QUEUE, worker.BatchHandler(reject_one))

    [dead] = bus.dead_letters(QUEUE)
    assert (dead.message_id, dead.dead_letter_reason) == ("m1", "PermanentError: unknown brand")
    assert worker.process_once(bus, QUEUE, worker.BatchHandler(lambda messages: None)) == 0


def test_a_failing_batch_is_abandoned_whole_then_dead_lettered_by_the_bus(bus):
    send(bus, 2)
    counts: list[list[int]] = []

    def failing(messages: list[ReceivedMessage]) -> None:
        counts.append([message.delivery_count for message in messages])
        raise ConnectionError("store unavailable")

    for _ in range(4):
        worker.process_once(bus, QUEUE, worker.BatchHandler(failing))

    assert counts == [[1, 1], [2, 2], [3, 3]]
    assert sorted(message.message_id for message in bus.dead_letters(QUEUE)) == ["m0", "m1"]


def test_a_batch_handler_still_serves_one_message_calls(bus):
    handler = worker.BatchHandler(lambda messages: {"x": PermanentError("no")})
    with pytest.raises(PermanentError):
        handler(ReceivedMessage(body={}, message_id="x", delivery_count=1))
    handler(ReceivedMessage(body={}, message_id="y", delivery_count=1))


def test_run_forever_drives_batch_handlers(bus):
    send(bus, 5)
    seen: list[str] = []
    done = threading.Event()

    def record(messages: list[ReceivedMessage]) -> None:
        seen.extend(message.message_id for message in messages)
        if len(seen) == 5:
            done.set()

    thread, stop = worker.start_worker(bus, {QUEUE: worker.BatchHandler(record)}, poll_interval=0.01)
    assert done.wait(5)
    stop.set()
    thread.join(5)
    assert sorted(seen) == [f"m{n}" for n in range(5)]


def test_a_malformed_tracking_message_is_dead_lettered_and_the_batch_still_counts(container, store):  # noqa: F811
    container.bus.send(QUEUE, [OutgoingMessage(body={"type": "visit", "eventId": "bad"}, message_id="visit:bad"),
                               to_message(visit(container, "v1"))])
    worker.process_once(container.bus, QUEUE, queue_handlers(container)[QUEUE])

    [dead] = container.bus.dead_letters(QUEUE)
    assert dead.message_id == "visit:bad" and dead.dead_letter_reason.startswith("MalformedBody:")
    assert counter(store, "m1")["clicks"] == 1
