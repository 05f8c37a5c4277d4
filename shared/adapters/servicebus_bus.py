"""The production message bus on Azure Service Bus (`azure-servicebus`), plus the message mappings.

The mapping functions are pure and tested here without a namespace (no emulator exists off
Docker): `to_servicebus_message` for sends, `from_servicebus_message` for what the SDK
receiver returns (what a Service Bus trigger receives is mapped by functions/queues/messages.py).

Delivery counts follow the port (and Service Bus' own DeliveryCount): 1 on the first delivery.
The Python SDK exposes the raw AMQP header, which counts *previous* attempts (0 on the first
delivery), so `from_servicebus_message` adds one; the Functions trigger already starts at 1.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from shared.clock import Clock, as_utc
from shared.config import Settings
from shared.errors import TransientError
from shared.ports.bus import (
    CONTENT_TYPE_JSON,
    QUEUES,
    MessageBus,
    MessageLockLost,
    OutgoingMessage,
    ReceivedMessage,
    decode_body,
    encode_body,
)

# Service Bus caps a dead-letter reason; ours are short anyway.
_MAX_REASON = 4096


def _body_bytes(body: Any) -> bytes | str:
    """The payload of an SDK message: bytes, or the sections of a data body joined."""
    if isinstance(body, bytes | str):
        return body
    if isinstance(body, dict):
        return encode_body(body)  # a value body that already holds the JSON object
    if isinstance(body, Iterable):
        return b"".join(part if isinstance(part, bytes) else bytes(part) for part in body)
    raise ValueError("unsupported Service Bus message body")


def to_servicebus_message(message: OutgoingMessage, *, now: datetime | None = None) -> Any:
    """An SDK `ServiceBusMessage`: JSON body, message id, subject, and schedule when in the future."""
    from azure.servicebus import ServiceBusMessage

    scheduled = as_utc(message.scheduled_for)
    if scheduled is not None and now is not None and scheduled <= now:
        scheduled = None  # already due: a plain send, as the local queue does
    return ServiceBusMessage(
        encode_body(message.body),
        message_id=message.message_id,
        content_type=CONTENT_TYPE_JSON,
        subject=message.subject,
        scheduled_enqueue_time_utc=scheduled,
    )


def from_servicebus_message(message: Any) -> ReceivedMessage:
    """A `ReceivedMessage` from an SDK received message (the message itself is kept as the lock token)."""
    raw_count = getattr(message, "delivery_count", None)
    return ReceivedMessage(
        body=decode_body(_body_bytes(message.body)),
        message_id=str(message.message_id),
        delivery_count=(raw_count or 0) + 1,
        enqueued_at=as_utc(getattr(message, "enqueued_time_utc", None)),
        subject=getattr(message, "subject", None),
        lock_token=message,
        dead_letter_reason=getattr(message, "dead_letter_reason", None),
    )


class ServiceBusMessageBus(MessageBus):
    """The bus port on Azure Service Bus: one sender and one peek-lock receiver per queue."""

    def __init__(self, settings: Settings, *, clock: Clock, receive_wait_seconds: float = 5.0) -> None:
        from azure.servicebus import ServiceBusClient

        self._clock = clock
        self._receive_wait = receive_wait_seconds
        self._credential: Any = None
        if settings.servicebus_connection:
            self._client = ServiceBusClient.from_connection_string(settings.servicebus_connection)
        elif settings.servicebus_namespace:
            from azure.identity import DefaultAzureCredential

            self._credential = DefaultAzureCredential()
            self._client = ServiceBusClient(
                fully_qualified_namespace=settings.servicebus_namespace, credential=self._credential
            )
        else:
            raise ValueError("POPSELL_SERVICEBUS_NAMESPACE (or POPSELL_SERVICEBUS_CONNECTION) is required")
        self._senders: dict[str, Any] = {}
        self._receivers: dict[str, Any] = {}
        # SDK senders and receivers are not thread-safe; one lock keeps them to one caller at a time.
        self._lock = threading.RLock()

    @staticmethod
    def _check_queue(queue: str) -> None:
        if queue not in QUEUES:
            raise ValueError(f"unknown queue {queue!r}; declared queues: {', '.join(QUEUES)}")

    def _sender(self, queue: str) -> Any:
        self._check_queue(queue)
        if queue not in self._senders:
            self._senders[queue] = self._client.get_queue_sender(queue_name=queue)
        return self._senders[queue]

    def _receiver(self, queue: str) -> Any:
        from azure.servicebus import ServiceBusReceiveMode

        self._check_queue(queue)
        if queue not in self._receivers:
            self._receivers[queue] = self._client.get_queue_receiver(
                queue_name=queue, receive_mode=ServiceBusReceiveMode.PEEK_LOCK
            )
        return self._receivers[queue]

    def send(self, queue: str, messages: list[OutgoingMessage]) -> None:
        """Send in as few batches as fit; Service Bus drops duplicate ids within its detection window."""
        from azure.servicebus.exceptions import MessageSizeExceededError, ServiceBusError

        if not messages:
            return
        now = self._clock.now()
        outgoing = [to_servicebus_message(message, now=now) for message in messages]
        with self._lock:
            sender = self._sender(queue)
            try:
                batch = sender.create_message_batch()
                for message in outgoing:
                    try:
                        batch.add_message(message)
                    except MessageSizeExceededError:
                        if len(batch) == 0:
                            raise ValueError(f"message {message.message_id} is larger than a batch") from None
                        sender.send_messages(batch)
                        batch = sender.create_message_batch()
                        batch.add_message(message)
                if len(batch):
                    sender.send_messages(batch)
            except ServiceBusError as exc:
                raise TransientError(f"Service Bus send to {queue} failed: {type(exc).__name__}") from exc

    def receive(self, queue: str, *, max_messages: int = 32) -> list[ReceivedMessage]:
        """Peek-lock up to `max_messages`, waiting a few seconds for the first."""
        with self._lock:
            received = self._receiver(queue).receive_messages(
                max_message_count=max_messages, max_wait_time=self._receive_wait
            )
        return [from_servicebus_message(message) for message in received]

    def complete(self, queue: str, message: ReceivedMessage) -> None:
        """Remove the message; MessageLockLost when its lock expired."""
        self._settle(queue, message, "complete_message")

    def abandon(self, queue: str, message: ReceivedMessage) -> None:
        """Release the lock: delivered again, dead-lettered by Service Bus past the max count."""
        self._settle(queue, message, "abandon_message")

    def dead_letter(self, queue: str, message: ReceivedMessage, *, reason: str) -> None:
        """Move the message to the queue's dead-letter sub-queue."""
        self._settle(queue, message, "dead_letter_message", reason=reason[:_MAX_REASON])

    def _settle(self, queue: str, message: ReceivedMessage, action: str, **kwargs: Any) -> None:
        from azure.servicebus.exceptions import MessageAlreadySettled, MessageLockLostError

        if message.lock_token is None:
            raise MessageLockLost(f"message {message.message_id} was not received by this bus")
        with self._lock:
            try:
                getattr(self._receiver(queue), action)(message.lock_token, **kwargs)
            except (MessageLockLostError, MessageAlreadySettled) as exc:
                raise MessageLockLost(f"lock lost for message {message.message_id} on queue {queue}") from exc

    def dead_letters(self, queue: str) -> list[ReceivedMessage]:
        """Peek (without locking) up to 100 messages of the dead-letter sub-queue."""
        from azure.servicebus import ServiceBusSubQueue

        self._check_queue(queue)
        with (
            self._lock,
            self._client.get_queue_receiver(queue_name=queue, sub_queue=ServiceBusSubQueue.DEAD_LETTER) as receiver,
        ):
            peeked = receiver.peek_messages(max_message_count=100)
        messages = []
        for message in peeked:
            received = from_servicebus_message(message)
            received.lock_token = None  # a peeked message cannot be settled
            messages.append(received)
        return messages

    def ping(self) -> None:
        """Raise if the namespace cannot be reached (peeks one message of the first queue)."""
        with self._lock, self._client.get_queue_receiver(queue_name=QUEUES[0]) as receiver:
            receiver.peek_messages(max_message_count=1)

    def close(self) -> None:
        """Close senders, receivers, the client and the credential."""
        with self._lock:
            for handler in [*self._senders.values(), *self._receivers.values()]:
                handler.close()
            self._senders.clear()
            self._receivers.clear()
            self._client.close()
            if self._credential is not None:
                self._credential.close()
