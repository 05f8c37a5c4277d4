"""Messages keep their id, body, subject and schedule across Service Bus and the Functions trigger.

No Service Bus emulator exists off Docker, so the production adapter is tested through its
pure mappings, on real SDK and azure-functions message objects.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from azure.functions import meta
from azure.functions.servicebus import ServiceBusMessageInConverter
from azure.servicebus import ServiceBusMessage, ServiceBusReceivedMessage
from azure.servicebus._pyamqp.message import Header, Message, Properties

from functions.queues.messages import from_function_message
from shared.adapters.servicebus_bus import from_servicebus_message, to_servicebus_message
from shared.ports.bus import OutgoingMessage

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
BODY = {"brandId": "b1", "template": "test_email", "data": {"note": "é ü"}}


def outgoing(**kwargs) -> OutgoingMessage:
    return OutgoingMessage(body=BODY, message_id="verify:m1:t1", subject="email:test_email", **kwargs)


def sdk_payload(message: ServiceBusMessage) -> bytes:
    return b"".join(message.body)


def received_from_sdk(message: ServiceBusMessage, *, previous_attempts: int) -> ServiceBusReceivedMessage:
    """What the SDK receiver hands back for this message (the AMQP frame Service Bus sends)."""
    amqp = Message(
        header=Header(delivery_count=previous_attempts),
        properties=Properties(
            message_id=message.message_id, subject=message.subject, content_type=message.content_type
        ),
        data=[sdk_payload(message)],
        message_annotations={b"x-opt-enqueued-time": int(T0.timestamp() * 1000)},
    )
    return ServiceBusReceivedMessage(amqp, receiver=None)


def received_by_trigger(message: ServiceBusMessage, *, delivery_count: int):
    """What the Python worker hands a Service Bus trigger for this message."""
    metadata = {
        "MessageId": meta.Datum(message.message_id, "string"),
        "DeliveryCount": meta.Datum(delivery_count, "int"),
        "EnqueuedTimeUtc": meta.Datum("2030-01-01T09:00:00Z", "string"),
        "ContentType": meta.Datum(message.content_type, "string"),
        "Subject": meta.Datum(message.subject, "string"),
        "LockToken": meta.Datum("lock-1", "string"),
        "UserProperties": meta.Datum("{}", "json"),
        "ApplicationProperties": meta.Datum("{}", "json"),
    }
    return ServiceBusMessageInConverter.decode(meta.Datum(sdk_payload(message), "bytes"), trigger_metadata=metadata)


def test_an_outgoing_message_maps_to_a_json_service_bus_message():
    message = to_servicebus_message(outgoing())

    assert isinstance(message, ServiceBusMessage)
    assert message.message_id == "verify:m1:t1"
    assert message.content_type == "application/json"
    assert message.subject == "email:test_email"
    assert json.loads(sdk_payload(message)) == BODY
    assert message.scheduled_enqueue_time_utc is None


def test_a_future_schedule_is_carried_and_a_past_one_dropped():
    later = T0 + timedelta(hours=2)

    assert to_servicebus_message(outgoing(scheduled_for=later), now=T0).scheduled_enqueue_time_utc == later
    past = to_servicebus_message(outgoing(scheduled_for=T0 - timedelta(seconds=1)), now=T0)
    assert past.scheduled_enqueue_time_utc is None


def test_the_sdk_round_trip_keeps_id_body_subject_and_counts_from_one():
    sent = to_servicebus_message(outgoing())

    first = from_servicebus_message(received_from_sdk(sent, previous_attempts=0))
    third = from_servicebus_message(received_from_sdk(sent, previous_attempts=2))

    assert first.message_id == "verify:m1:t1"
    assert first.body == BODY
    assert first.subject == "email:test_email"
    assert first.enqueued_at == T0
    assert first.delivery_count == 1
    assert third.delivery_count == 3
    assert isinstance(first.lock_token, ServiceBusReceivedMessage)  # what complete/abandon settle


def test_the_trigger_round_trip_keeps_id_body_and_delivery_count():
    sent = to_servicebus_message(outgoing())

    received = from_function_message(received_by_trigger(sent, delivery_count=2))

    assert received.message_id == "verify:m1:t1"
    assert received.body == BODY
    assert received.delivery_count == 2
    assert received.enqueued_at == T0
    assert received.subject == "email:test_email"


@pytest.mark.parametrize("payload", [b"not json", b"[1, 2]", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_malformed(payload):
    trigger_message = received_by_trigger(ServiceBusMessage(payload, message_id="bad"), delivery_count=1)

    with pytest.raises(ValueError):
        from_function_message(trigger_message)


def test_the_emails_trigger_is_wired_to_the_emails_queue():
    import azure.functions as func

    from functions.queues.emails import bp

    app = func.FunctionApp()
    app.register_functions(bp)
    [function] = app.get_functions()
    trigger = function.get_trigger()
    assert function.get_function_name() == "emails_queue"
    assert trigger.type == "serviceBusTrigger"
    assert trigger.queue_name == "emails"
    assert trigger.connection == "ServiceBusConnection"
    assert trigger.name == "msg"
