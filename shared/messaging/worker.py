"""The local queue worker: drives the same handler functions the Service Bus triggers call.

Settlement policy, the one the Functions host applies to a trigger (see
docs/decisions/0003-messaging-and-emails.md):
- the handler returns → complete;
- `PermanentError`, or a malformed body (`ValueError`, pydantic's `ValidationError` is one)
  → dead-letter at once, with a reason;
- any other exception (`TransientError` included) → abandon: delivered again, and
  dead-lettered by the bus past its max delivery count.
Logs carry queue names, message ids, delivery counts and exception types: never bodies nor
exception messages (a pydantic error quotes the input, which may hold an email address).
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from shared.errors import PermanentError
from shared.ports.bus import MessageBus, MessageLockLost, ReceivedMessage

log = logging.getLogger(__name__)

Handler = Callable[[ReceivedMessage], None]
# Messages received per poll: a plain handler takes them one by one; a batch handler gets up to
# BATCH_SIZE at once, as many as host.json's Service Bus `maxMessageBatchSize` gives it in Azure.
RECEIVE_SIZE = 32
BATCH_SIZE = 100
# A batch handler receives up to BATCH_SIZE messages at once and returns the messages it rejects
# (message id -> the exception: malformed or permanent ones are dead-lettered one by one);
# raising abandons the whole batch.
BatchFunction = Callable[[list[ReceivedMessage]], Mapping[str, BaseException] | None]


@dataclass(frozen=True)
class BatchHandler:
    """A batch handler; also callable on one message, like a plain handler."""

    function: BatchFunction

    def __call__(self, message: ReceivedMessage) -> None:
        rejected = self.function([message]) or {}
        if message.message_id in rejected:
            raise rejected[message.message_id]


_MAX_REASON = 200


def _where(exc: BaseException) -> str:
    """The innermost frame of a failure ("module.py:42"): enough to debug, no message text."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}"


def dead_letter_reason(exc: BaseException) -> str | None:
    """The dead-letter reason for a permanent failure, or None when the failure is worth retrying."""
    if isinstance(exc, PermanentError):
        # Our own error details are written without personal data.
        return f"PermanentError: {exc.detail}"[:_MAX_REASON]
    if isinstance(exc, ValueError):
        # A ValidationError's text quotes the input: keep only the failing fields.
        errors = getattr(exc, "errors", None)
        if callable(errors):
            fields = ", ".join(".".join(str(part) for part in error["loc"]) or "body" for error in errors())
            return f"MalformedBody: {fields}"[:_MAX_REASON]
        return f"MalformedBody: {type(exc).__name__}"
    return None


def handle(bus: MessageBus, queue: str, handler: Handler, message: ReceivedMessage) -> str:
    """Run the handler on one delivered message and settle it; returns "completed" | "dead-lettered" | "abandoned"."""
    try:
        handler(message)
    except Exception as exc:
        reason = dead_letter_reason(exc)
        try:
            if reason is not None:
                bus.dead_letter(queue, message, reason=reason)
                log.warning(
                    "dead-lettered message %s on queue %s: %s (%s)",
                    message.message_id,
                    queue,
                    type(exc).__name__,
                    _where(exc),
                )
                return "dead-lettered"
            bus.abandon(queue, message)
        except MessageLockLost:
            log.warning("lock lost on message %s on queue %s; it will be delivered again", message.message_id, queue)
            return "abandoned"
        log.warning(
            "abandoned message %s on queue %s (delivery %d): %s (%s)",
            message.message_id,
            queue,
            message.delivery_count,
            type(exc).__name__,
            _where(exc),
        )
        return "abandoned"
    try:
        bus.complete(queue, message)
    except MessageLockLost:
        # The work is done but the lock expired: the message comes again and the handler,
        # being idempotent, finds it done.
        log.warning("lock lost on message %s on queue %s after success", message.message_id, queue)
        return "abandoned"
    log.info("completed message %s on queue %s", message.message_id, queue)
    return "completed"


def _settle(bus: MessageBus, queue: str, message: ReceivedMessage, action: str, reason: str = "") -> str:
    """Settle one message of a batch; a lost lock means it comes again (the handler is idempotent)."""
    try:
        if action == "completed":
            bus.complete(queue, message)
        elif action == "dead-lettered":
            bus.dead_letter(queue, message, reason=reason)
        else:
            bus.abandon(queue, message)
    except MessageLockLost:
        log.warning("lock lost on message %s on queue %s; it will be delivered again", message.message_id, queue)
        return "abandoned"
    return action


def handle_batch(bus: MessageBus, queue: str, handler: BatchHandler, messages: list[ReceivedMessage]) -> dict[str, str]:
    """Run a batch handler and settle each message; returns message id -> outcome.

    The handler returning completes every message but those it rejected (dead-lettered one by
    one, or abandoned when the rejection is worth retrying); the handler raising abandons all.
    """
    try:
        rejected = handler.function(messages) or {}
    except Exception as exc:
        log.warning("abandoned a batch of %d messages on queue %s: %s (%s)", len(messages), queue,
                    type(exc).__name__, _where(exc))
        return {message.message_id: _settle(bus, queue, message, "abandoned") for message in messages}
    outcomes: dict[str, str] = {}
    for message in messages:
        exc = rejected.get(message.message_id)
        if exc is None:
            outcomes[message.message_id] = _settle(bus, queue, message, "completed")
            continue
        reason = dead_letter_reason(exc)
        action = "dead-lettered" if reason is not None else "abandoned"
        outcomes[message.message_id] = _settle(bus, queue, message, action, reason or "")
        log.warning("%s message %s on queue %s: %s", action, message.message_id, queue, type(exc).__name__)
    log.info("handled a batch of %d messages on queue %s", len(messages), queue)
    return outcomes


def process_once(bus: MessageBus, queue: str, handler: Handler, *, max_messages: int | None = None) -> int:
    """Receive the due messages of one queue, handle and settle each; returns how many were received."""
    default = BATCH_SIZE if isinstance(handler, BatchHandler) else RECEIVE_SIZE
    messages = bus.receive(queue, max_messages=max_messages or default)
    if isinstance(handler, BatchHandler):
        if messages:
            handle_batch(bus, queue, handler, messages)
        return len(messages)
    for message in messages:
        handle(bus, queue, handler, message)
    return len(messages)


def run_forever(
    bus: MessageBus,
    handlers: Mapping[str, Handler],
    stop_event: threading.Event,
    poll_interval: float = 1.0,
) -> None:
    """Poll every queue until `stop_event` is set, sleeping only when all queues were empty."""
    if not handlers:
        log.warning("queue worker has no handlers: pass popsell.registry.queue_handlers(container)")
    log.info("queue worker started on %s", ", ".join(sorted(handlers)))
    while not stop_event.is_set():
        received = 0
        for queue, handler in handlers.items():
            try:
                received += process_once(bus, queue, handler)
            except Exception as exc:
                # One failing queue (a locked database, a bad handler) must not stop the others.
                log.error("queue worker failed on queue %s: %s (%s)", queue, type(exc).__name__, _where(exc))
        if received == 0:
            stop_event.wait(poll_interval)
    log.info("queue worker stopped")


def start_worker(
    bus: MessageBus, handlers: Mapping[str, Handler], *, poll_interval: float = 1.0
) -> tuple[threading.Thread, threading.Event]:
    """Start `run_forever` on a daemon thread; set the returned event (then join) to stop it."""
    stop_event = threading.Event()
    thread = threading.Thread(
        target=run_forever, args=(bus, dict(handlers), stop_event, poll_interval), name="queue-worker", daemon=True
    )
    thread.start()
    return thread, stop_event
