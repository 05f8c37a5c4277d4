"""What a Service Bus trigger receives, as the `ReceivedMessage` every queue handler takes."""

from __future__ import annotations

from typing import Any

from shared.clock import as_utc
from shared.ports.bus import ReceivedMessage, decode_body


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
