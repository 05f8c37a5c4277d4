"""The `provider-events` queue trigger: email-provider events applied to contacts (same handler as the worker).

Settlement as for `emails` (see functions/queues/emails.py): returning completes, raising
abandons and the queue's max delivery count dead-letters. The handler is idempotent through a
processed-event marker, so a redelivery changes nothing.
"""

from __future__ import annotations

import azure.functions as func

from functions.queues.messages import run_one
from popsell.bootstrap import get_container
from shared.crm.provider_events import provider_event_handler
from shared.ports.bus import QUEUE_PROVIDER_EVENTS

bp = func.Blueprint()


@bp.function_name("provider_events_queue")
@bp.service_bus_queue_trigger(arg_name="msg", queue_name=QUEUE_PROVIDER_EVENTS, connection="ServiceBusConnection")
def provider_events_queue(msg: func.ServiceBusMessage) -> None:
    """Apply one email-provider event of the `provider-events` queue."""
    run_one(msg, lambda message: provider_event_handler(get_container(), message), what="provider event")
