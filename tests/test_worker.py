"""The local worker settles messages the way the Functions host does."""

from __future__ import annotations

import logging
import threading

import pytest
from pydantic import BaseModel

from popsell.registry import queue_handlers
from shared.adapters.sqlite_bus import REASON_MAX_DELIVERY, SqliteMessageBus
from shared.errors import PermanentError, TransientError
from shared.messaging import worker
from shared.ports.bus import (
    QUEUE_EMAILS,
    QUEUE_PROVIDER_EVENTS,
    QUEUE_TRACKING_EVENTS,
    OutgoingMessage,
    ReceivedMessage,
)


@pytest.fixture
def bus(tmp_path, clock):
    bus = SqliteMessageBus(tmp_path / "bus.sqlite3", clock=clock, max_delivery_count=3)
    yield bus
    bus.close()


def send(bus, body=None, message_id="m1"):
    bus.send(QUEUE_EMAILS, [OutgoingMessage(body=body or {"secret": "alice@example.com"}, message_id=message_id)])


def test_success_completes_the_message(bus):
    send(bus)
    seen: list[ReceivedMessage] = []

    assert worker.process_once(bus, QUEUE_EMAILS, seen.append) == 1

    assert [m.message_id for m in seen] == ["m1"]
    assert worker.process_once(bus, QUEUE_EMAILS, seen.append) == 0
    assert bus.dead_letters(QUEUE_EMAILS) == []


def test_a_transient_failure_is_delivered_again_then_dead_lettered_by_the_bus(bus):
    send(bus)
    counts: list[int] = []

    def flaky(message: ReceivedMessage) -> None:
        counts.append(message.delivery_count)
        raise TransientError("provider down")

    for _ in range(5):
        worker.process_once(bus, QUEUE_EMAILS, flaky)

    assert counts == [1, 2, 3]
    [dead] = bus.dead_letters(QUEUE_EMAILS)
    assert dead.dead_letter_reason == REASON_MAX_DELIVERY


def test_a_transient_failure_then_success_completes(bus):
    send(bus)
    calls: list[int] = []

    def second_time_lucky(message: ReceivedMessage) -> None:
        calls.append(message.delivery_count)
        if message.delivery_count == 1:
            raise ConnectionError("reset")

    worker.process_once(bus, QUEUE_EMAILS, second_time_lucky)
    worker.process_once(bus, QUEUE_EMAILS, second_time_lucky)

    assert calls == [1, 2]
    assert worker.process_once(bus, QUEUE_EMAILS, second_time_lucky) == 0
    assert bus.dead_letters(QUEUE_EMAILS) == []


def test_a_permanent_error_is_dead_lettered_at_once_with_its_reason(bus):
    send(bus)

    def refuse(message: ReceivedMessage) -> None:
        raise PermanentError("unknown template")

    worker.process_once(bus, QUEUE_EMAILS, refuse)

    [dead] = bus.dead_letters(QUEUE_EMAILS)
    assert dead.delivery_count == 1
    assert dead.dead_letter_reason == "PermanentError: unknown template"


class Shape(BaseModel):
    template: str


def test_a_malformed_body_is_dead_lettered_naming_only_the_fields(bus, caplog):
    send(bus, body={"templat": "alice@example.com"})

    caplog.set_level(logging.DEBUG)
    worker.process_once(bus, QUEUE_EMAILS, lambda message: Shape.model_validate(message.body) and None)

    [dead] = bus.dead_letters(QUEUE_EMAILS)
    assert dead.dead_letter_reason == "MalformedBody: template"
    assert "alice@example.com" not in caplog.text
    assert "m1" in caplog.text


def test_logs_carry_ids_never_bodies_or_exception_text(bus, caplog):
    send(bus)

    def leaky(message: ReceivedMessage) -> None:
        raise RuntimeError(f"could not mail {message.body['secret']}")

    caplog.set_level(logging.DEBUG)
    worker.process_once(bus, QUEUE_EMAILS, leaky)

    assert "m1" in caplog.text and "emails" in caplog.text
    assert "alice@example.com" not in caplog.text


def test_run_forever_drains_every_queue_until_stopped(bus):
    send(bus, message_id="e1")
    bus.send(QUEUE_TRACKING_EVENTS, [OutgoingMessage(body={"k": 1}, message_id="t1")])
    seen: list[str] = []
    done = threading.Event()

    def record(message: ReceivedMessage) -> None:
        seen.append(message.message_id)
        if len(seen) == 2:
            done.set()

    thread, stop = worker.start_worker(bus, {QUEUE_EMAILS: record, QUEUE_TRACKING_EVENTS: record}, poll_interval=0.01)
    assert done.wait(5)
    stop.set()
    thread.join(5)

    assert sorted(seen) == ["e1", "t1"]
    assert not thread.is_alive()


def test_every_queue_has_one_handler_bound_to_the_process_container(container):
    handlers = queue_handlers(container)

    assert {QUEUE_EMAILS, QUEUE_PROVIDER_EVENTS, QUEUE_TRACKING_EVENTS} <= set(handlers)
    assert isinstance(handlers[QUEUE_TRACKING_EVENTS], worker.BatchHandler)  # the tracking queue goes by batches
