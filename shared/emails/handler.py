"""The `emails` queue handler: the one function both the Service Bus trigger and the local worker call."""

from __future__ import annotations

from shared.bootstrap import get_container
from shared.emails.service import handle_email_message
from shared.messaging.worker import register
from shared.ports.bus import QUEUE_EMAILS, ReceivedMessage


def email_handler(message: ReceivedMessage) -> None:
    """Send the email of one `emails` message with the process's adapters."""
    container = get_container()
    handle_email_message(
        message, store=container.store, mailer=container.mailer, settings=container.settings, clock=container.clock
    )


register(QUEUE_EMAILS, email_handler)
