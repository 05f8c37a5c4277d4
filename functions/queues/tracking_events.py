"""The `tracking-events` queue trigger: batches of clicks, page views and product picks (same handler as the worker).

Cardinality many: the host hands up to `maxMessageBatchSize` messages at once, and the batch's
counter increments are merged into one patch per counter. Settlement under the Python worker is
per invocation: returning completes the whole batch, raising abandons it (redelivered, then
dead-lettered by the queue's max delivery count). Messages the handler rejects as malformed or
permanent can never succeed; they cannot be dead-lettered one by one here (no settlement
actions on `func.ServiceBusMessage`), so they are logged by id and completed with the batch
rather than poisoning it. The handler is idempotent per event (`tracking_seen`), so a
redelivered batch changes nothing already applied.
"""

from __future__ import annotations

import logging

import azure.functions as func

from functions.queues.messages import from_function_message
from popsell.bootstrap import get_container
from shared.ports.bus import QUEUE_TRACKING_EVENTS, ReceivedMessage
from shared.tracking.aggregator import tracking_events_handler

bp = func.Blueprint()
log = logging.getLogger("popsell.queues")


@bp.function_name("tracking_events_queue")
@bp.service_bus_queue_trigger(arg_name="msgs", queue_name=QUEUE_TRACKING_EVENTS, connection="ServiceBusConnection",
                              cardinality=func.Cardinality.MANY)
def tracking_events_queue(msgs: list[func.ServiceBusMessage]) -> None:
    """Aggregate one batch of the `tracking-events` queue into counters and visit records."""
    messages: list[ReceivedMessage] = []
    for msg in msgs:
        try:
            messages.append(from_function_message(msg))
        except ValueError:
            log.warning("tracking message %s is not a JSON object: dropped", msg.message_id)
    try:
        rejected = tracking_events_handler(get_container(), messages)
    except Exception as exc:
        log.warning("tracking batch of %d messages failed: %s", len(messages), type(exc).__name__)
        raise
    for message_id, exc in rejected.items():
        log.warning("tracking message %s rejected: %s", message_id, type(exc).__name__)
