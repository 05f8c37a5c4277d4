"""The `notifications` queue handler: the one function both the Service Bus trigger and the local worker call."""

from __future__ import annotations

from shared.notifications.service import handle_notification_message
from shared.ports.bus import ReceivedMessage
from shared.ports.platform import Platform


def notification_handler(container: Platform, message: ReceivedMessage) -> None:
    """Send the push of one `notifications` message with the process's adapters."""
    handle_notification_message(message, store=container.store, notifier=container.notifier,
                                now=container.clock.now())
