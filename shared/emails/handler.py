"""The `emails` queue handler: the one function both the Service Bus trigger and the local worker call."""

from __future__ import annotations

from shared.emails.service import handle_email_message
from shared.ports.bus import ReceivedMessage
from shared.ports.platform import Platform


def email_handler(container: Platform, message: ReceivedMessage) -> None:
    """Send the email of one `emails` message with the process's adapters."""
    handle_email_message(
        message, store=container.store, mailer=container.mailer, settings=container.settings, clock=container.clock
    )

