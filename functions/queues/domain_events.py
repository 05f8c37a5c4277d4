"""The `domain-events` queue trigger: one event for one out-of-process handler (same path as the worker).

Settlement as for `emails` (see functions/queues/emails.py): returning completes, raising
abandons and the queue's max delivery count dead-letters. Each message names one handler of one
event (message id `<event id>:<handler>`), and handlers are idempotent by event, so a
redelivery changes nothing.
"""

from __future__ import annotations

import azure.functions as func

from functions.queues.messages import run_one
from popsell.bootstrap import get_container
from shared.ports.bus import QUEUE_DOMAIN_EVENTS

bp = func.Blueprint()


@bp.function_name("domain_events_queue")
@bp.service_bus_queue_trigger(arg_name="msg", queue_name=QUEUE_DOMAIN_EVENTS, connection="ServiceBusConnection")
def domain_events_queue(msg: func.ServiceBusMessage) -> None:
    """Run the out-of-process handler one `domain-events` message names."""
    run_one(msg, lambda message: get_container().events.deliver(message), what="domain event")
