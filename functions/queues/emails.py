"""The `emails` queue trigger: the same handler the local worker drives.

Settlement under the Functions host: returning completes the message; raising abandons it,
and Service Bus dead-letters it once its delivery count passes the queue's
`maxDeliveryCount` (a property of the queue, set in infra, not in host.json). The Python
worker has no settlement actions on `func.ServiceBusMessage` (they need the preview
SDK-type bindings), so a PermanentError is not dead-lettered at once here: it raises and is
retried up to the max. That stays cheap and safe because the handler is idempotent: a
malformed message fails at parsing, and an email marked "failed" is never sent again.
The `ServiceBusConnection` app setting names the namespace
(`ServiceBusConnection__fullyQualifiedNamespace` with a managed identity).
"""

from __future__ import annotations

import azure.functions as func

from functions.queues.messages import run_one
from popsell.bootstrap import get_container
from shared.emails.handler import email_handler
from shared.ports.bus import QUEUE_EMAILS

bp = func.Blueprint()


@bp.function_name("emails_queue")
@bp.service_bus_queue_trigger(arg_name="msg", queue_name=QUEUE_EMAILS, connection="ServiceBusConnection")
def emails_queue(msg: func.ServiceBusMessage) -> None:
    """Send one email of the `emails` queue."""
    run_one(msg, lambda message: email_handler(get_container(), message), what="email message")
