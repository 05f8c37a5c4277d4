"""The `notifications` queue trigger: member push notifications, the same handler the local worker drives.

Settlement as for `emails` (functions/queues/emails.py): returning completes the message; raising
(a TransientError of the push service, a store failure) abandons it and Service Bus delivers it again,
dead-lettering it past the queue's `maxDeliveryCount`. The handler records each (message, device) it
sent, so a redelivery sends only to the devices not reached yet.
"""

from __future__ import annotations

import azure.functions as func

from functions.queues.messages import run_one
from popsell.bootstrap import get_container
from shared.notifications.handler import notification_handler
from shared.ports.bus import QUEUE_NOTIFICATIONS

bp = func.Blueprint()


@bp.function_name("notifications_queue")
@bp.service_bus_queue_trigger(arg_name="msg", queue_name=QUEUE_NOTIFICATIONS, connection="ServiceBusConnection")
def notifications_queue(msg: func.ServiceBusMessage) -> None:
    """Send the push of one `notifications` message to the member's devices."""
    run_one(msg, lambda message: notification_handler(get_container(), message), what="notification message")
