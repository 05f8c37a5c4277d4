"""The embedded SQLite queue keeps the Service Bus semantics the handlers rely on."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from shared.adapters.sqlite_bus import REASON_MAX_DELIVERY, SqliteMessageBus
from shared.ports.bus import QUEUE_EMAILS, QUEUE_TRACKING_EVENTS, MessageLockLost, OutgoingMessage


@pytest.fixture
def bus(tmp_path, clock):
    bus = SqliteMessageBus(tmp_path / "bus.sqlite3", clock=clock, max_delivery_count=3)
    yield bus
    bus.close()


def message(message_id: str, **kwargs) -> OutgoingMessage:
    return OutgoingMessage(body={"n": message_id}, message_id=message_id, **kwargs)


def test_a_sent_message_is_received_with_its_body_and_a_first_delivery_count(bus, clock):
    bus.send(QUEUE_EMAILS, [message("m1", subject="hello")])

    [received] = bus.receive(QUEUE_EMAILS)

    assert received.body == {"n": "m1"}
    assert received.message_id == "m1"
    assert received.subject == "hello"
    assert received.delivery_count == 1
    assert received.enqueued_at == clock.now()


def test_queues_are_separate(bus):
    bus.send(QUEUE_EMAILS, [message("m1")])

    assert bus.receive(QUEUE_TRACKING_EVENTS) == []
    assert len(bus.receive(QUEUE_EMAILS)) == 1


def test_an_undeclared_queue_is_refused(bus):
    with pytest.raises(ValueError):
        bus.send("nope", [message("m1")])


def test_a_completed_message_is_gone(bus, clock):
    bus.send(QUEUE_EMAILS, [message("m1")])
    [received] = bus.receive(QUEUE_EMAILS)

    bus.complete(QUEUE_EMAILS, received)

    clock.advance(timedelta(hours=1))
    assert bus.receive(QUEUE_EMAILS) == []


def test_a_duplicate_message_id_within_the_window_is_dropped(bus, clock):
    bus.send(QUEUE_EMAILS, [message("m1")])
    clock.advance(timedelta(minutes=9))
    bus.send(QUEUE_EMAILS, [message("m1"), message("m2")])

    assert [m.message_id for m in bus.receive(QUEUE_EMAILS)] == ["m1", "m2"]


def test_a_duplicate_in_the_same_batch_is_dropped(bus):
    bus.send(QUEUE_EMAILS, [message("m1"), message("m1")])

    assert len(bus.receive(QUEUE_EMAILS)) == 1


def test_the_same_message_id_after_the_window_is_accepted(bus, clock):
    bus.send(QUEUE_EMAILS, [message("m1")])
    [first] = bus.receive(QUEUE_EMAILS)
    bus.complete(QUEUE_EMAILS, first)

    clock.advance(timedelta(minutes=10))
    bus.send(QUEUE_EMAILS, [message("m1")])

    assert [m.message_id for m in bus.receive(QUEUE_EMAILS)] == ["m1"]


def test_a_dropped_duplicate_does_not_extend_the_window(bus, clock):
    bus.send(QUEUE_EMAILS, [message("m1")])
    [first] = bus.receive(QUEUE_EMAILS)
    bus.complete(QUEUE_EMAILS, first)
    clock.advance(timedelta(minutes=9))
    bus.send(QUEUE_EMAILS, [message("m1")])  # dropped

    clock.advance(timedelta(minutes=1))
    bus.send(QUEUE_EMAILS, [message("m1")])

    assert [m.message_id for m in bus.receive(QUEUE_EMAILS)] == ["m1"]


def test_duplicate_detection_is_per_queue(bus):
    bus.send(QUEUE_EMAILS, [message("m1")])
    bus.send(QUEUE_TRACKING_EVENTS, [message("m1")])

    assert len(bus.receive(QUEUE_TRACKING_EVENTS)) == 1


def test_a_scheduled_message_is_not_delivered_before_its_time(bus, clock):
    bus.send(QUEUE_EMAILS, [message("later", scheduled_for=clock.now() + timedelta(hours=2)), message("now")])

    [now] = bus.receive(QUEUE_EMAILS)
    assert now.message_id == "now"
    bus.complete(QUEUE_EMAILS, now)
    clock.advance(timedelta(hours=1, minutes=59, seconds=59))
    assert bus.receive(QUEUE_EMAILS) == []
    clock.advance(timedelta(seconds=1))
    assert [m.message_id for m in bus.receive(QUEUE_EMAILS)] == ["later"]


def test_a_locked_message_is_not_delivered_twice_while_the_lock_holds(bus, clock):
    bus.send(QUEUE_EMAILS, [message("m1")])
    bus.receive(QUEUE_EMAILS)

    clock.advance(timedelta(seconds=59))

    assert bus.receive(QUEUE_EMAILS) == []


def test_a_message_whose_lock_expired_is_delivered_again_with_a_higher_count(bus, clock):
    bus.send(QUEUE_EMAILS, [message("m1")])
    [first] = bus.receive(QUEUE_EMAILS)

    clock.advance(timedelta(seconds=60))
    [again] = bus.receive(QUEUE_EMAILS)

    assert again.message_id == "m1"
    assert again.delivery_count == first.delivery_count + 1


def test_settling_after_the_lock_expired_raises_lock_lost(bus, clock):
    bus.send(QUEUE_EMAILS, [message("m1")])
    [first] = bus.receive(QUEUE_EMAILS)
    clock.advance(timedelta(seconds=61))

    with pytest.raises(MessageLockLost):
        bus.complete(QUEUE_EMAILS, first)
    # The stale delivery cannot settle the redelivered one either.
    [again] = bus.receive(QUEUE_EMAILS)
    with pytest.raises(MessageLockLost):
        bus.complete(QUEUE_EMAILS, first)
    bus.complete(QUEUE_EMAILS, again)


def test_an_abandoned_message_is_delivered_again_at_once(bus):
    bus.send(QUEUE_EMAILS, [message("m1")])
    [first] = bus.receive(QUEUE_EMAILS)

    bus.abandon(QUEUE_EMAILS, first)

    [again] = bus.receive(QUEUE_EMAILS)
    assert again.delivery_count == 2


def test_abandoning_past_the_max_delivery_count_dead_letters(bus):
    bus.send(QUEUE_EMAILS, [message("m1")])
    for expected_count in (1, 2, 3):
        [received] = bus.receive(QUEUE_EMAILS)
        assert received.delivery_count == expected_count
        bus.abandon(QUEUE_EMAILS, received)

    assert bus.receive(QUEUE_EMAILS) == []
    [dead] = bus.dead_letters(QUEUE_EMAILS)
    assert dead.message_id == "m1"
    assert dead.delivery_count == 3
    assert dead.dead_letter_reason == REASON_MAX_DELIVERY
    assert dead.body == {"n": "m1"}


def test_a_lock_expiring_on_the_last_delivery_dead_letters(bus, clock):
    bus.send(QUEUE_EMAILS, [message("m1")])
    for _ in range(3):
        assert len(bus.receive(QUEUE_EMAILS)) == 1
        clock.advance(timedelta(minutes=1))

    assert bus.receive(QUEUE_EMAILS) == []
    assert [m.dead_letter_reason for m in bus.dead_letters(QUEUE_EMAILS)] == [REASON_MAX_DELIVERY]


def test_dead_letter_keeps_the_reason(bus):
    bus.send(QUEUE_EMAILS, [message("m1"), message("m2")])
    first, _ = bus.receive(QUEUE_EMAILS)

    bus.dead_letter(QUEUE_EMAILS, first, reason="PermanentError: unknown template")

    [dead] = bus.dead_letters(QUEUE_EMAILS)
    assert (dead.message_id, dead.dead_letter_reason) == ("m1", "PermanentError: unknown template")
    assert bus.dead_letters(QUEUE_TRACKING_EVENTS) == []


def test_receive_respects_max_messages_in_send_order(bus):
    bus.send(QUEUE_EMAILS, [message(f"m{i}") for i in range(5)])

    assert [m.message_id for m in bus.receive(QUEUE_EMAILS, max_messages=2)] == ["m0", "m1"]
    assert [m.message_id for m in bus.receive(QUEUE_EMAILS, max_messages=10)] == ["m2", "m3", "m4"]


def test_two_receivers_never_get_the_same_message(tmp_path, clock):
    path = tmp_path / "bus.sqlite3"
    sender = SqliteMessageBus(path, clock=clock)
    total = 200
    sender.send(QUEUE_EMAILS, [message(f"m{i}") for i in range(total)])
    # Two bus instances on one file stand for two worker processes; each runs two threads.
    receivers = [SqliteMessageBus(path, clock=clock), SqliteMessageBus(path, clock=clock)]
    taken: list[list[str]] = [[] for _ in range(4)]

    def drain(bus: SqliteMessageBus, into: list[str]) -> None:
        while batch := bus.receive(QUEUE_EMAILS, max_messages=3):
            into.extend(m.message_id for m in batch)

    threads = [threading.Thread(target=drain, args=(receivers[i % 2], taken[i])) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    every = [message_id for ids in taken for message_id in ids]
    assert len(every) == total
    assert len(set(every)) == total
    for bus in (sender, *receivers):
        bus.close()


def test_messages_and_duplicate_history_survive_a_reopen(tmp_path, clock):
    path = tmp_path / "bus.sqlite3"
    first = SqliteMessageBus(path, clock=clock)
    first.send(QUEUE_EMAILS, [message("m1"), message("later", scheduled_for=clock.now() + timedelta(hours=1))])
    first.close()

    reopened = SqliteMessageBus(path, clock=clock)
    reopened.send(QUEUE_EMAILS, [message("m1")])  # still a duplicate after the reopen
    [m1] = reopened.receive(QUEUE_EMAILS)
    assert m1.message_id == "m1"
    reopened.complete(QUEUE_EMAILS, m1)
    clock.advance(timedelta(hours=1))
    assert [m.message_id for m in reopened.receive(QUEUE_EMAILS)] == ["later"]
    reopened.close()


def test_ping_answers_on_an_open_bus(bus):
    bus.ping()
