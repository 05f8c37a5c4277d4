"""What a Service Bus trigger receives, as the `ReceivedMessage` every queue handler takes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from shared.clock import as_utc
from shared.ports.bus import ReceivedMessage, decode_body

log = logging.getLogger("popsell.queues")


def from_function_message(message: Any) -> ReceivedMessage:
    """A `ReceivedMessage` from the `azure.functions.ServiceBusMessage` a trigger receives."""
    return ReceivedMessage(
        body=decode_body(message.get_body()),
        message_id=str(message.message_id),
        delivery_count=message.delivery_count or 1,
        enqueued_at=as_utc(message.enqueued_time_utc),
        subject=getattr(message, "subject", None) or getattr(message, "label", None),
        lock_token=getattr(message, "lock_token", None),
        dead_letter_reason=getattr(message, "dead_letter_reason", None),
    )


def run_one(message: Any, handler: Callable[[ReceivedMessage], None], *, what: str) -> None:
    """Hand one trigger message to its handler; a failure is logged (ids and the error type only) and raised.

    Raising abandons the message: Service Bus delivers it again, and dead-letters it past the queue's
    max delivery count. The bodies may hold an address: they are never logged, nor are error texts.
    """
    received = from_function_message(message)
    try:
        handler(received)
    except Exception as exc:
        log.warning("%s %s failed (delivery %d): %s", what, received.message_id, received.delivery_count,
                    type(exc).__name__)
        raise
