"""The dispatcher: hands each published event to the handlers the composition root subscribed.

- An in-process handler runs right after the write that raised the event, in the same call: its
  failure fails the call, and the call's retry raises the same event (same id) again.
- An out-of-process handler gets the event through the `domain-events` queue, one message per
  (event, handler) with message id `<event id>:<handler name>`: the bus drops a second send of it
  within its duplicate-detection window, delivers at least once, and dead-letters what keeps failing.

So every handler runs at least once per event and must be idempotent: it sets a state named by the
event (a contact, a counter mark, a line), never adds a step blindly. A handler may return further
events: they are handled at once, before the next handler of the event that caused them (so a later
handler sees their effects), in the same call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from shared.errors import PermanentError
from shared.events.model import DomainEvent
from shared.ports.bus import QUEUE_DOMAIN_EVENTS, OutgoingMessage, ReceivedMessage
from shared.ports.platform import Platform

log = logging.getLogger(__name__)

Handler = Callable[[Platform, Any], Iterable[DomainEvent] | None]


@dataclass(frozen=True)
class Subscription:
    """One handler of one event type (and of its subclasses), by a name unique in the process."""

    event: type[DomainEvent]
    name: str
    handler: Handler
    out_of_process: bool = False


def _event_types(base: type[DomainEvent]) -> Iterable[type[DomainEvent]]:
    yield base
    for sub in base.__subclasses__():
        yield from _event_types(sub)


class Dispatcher:
    """The subscriptions of one process, bound to its platform."""

    def __init__(self, platform: Platform, subscriptions: Iterable[Subscription]) -> None:
        self._platform = platform
        self._subscriptions = tuple(subscriptions)
        self._by_name: dict[str, Subscription] = {}
        for subscription in self._subscriptions:
            if subscription.name in self._by_name:
                raise ValueError(f"two event handlers are named {subscription.name!r}")
            self._by_name[subscription.name] = subscription
        self._types = {kind.name: kind for sub in self._subscriptions for kind in _event_types(sub.event) if kind.name}

    def handlers_of(self, event: DomainEvent) -> list[Subscription]:
        """The subscriptions an event reaches, in the order they were declared."""
        return [sub for sub in self._subscriptions if isinstance(event, sub.event)]

    def publish(self, *events: DomainEvent) -> None:
        outgoing: list[OutgoingMessage] = []
        for event in events:
            self._run(event, outgoing)
        # After the in-process handlers: a queued handler sees what they wrote.
        if outgoing:
            self._platform.bus.send(QUEUE_DOMAIN_EVENTS, outgoing)

    def _run(self, event: DomainEvent, outgoing: list[OutgoingMessage]) -> None:
        for subscription in self.handlers_of(event):
            if subscription.out_of_process:
                outgoing.append(_message(event, subscription))
                continue
            for caused in subscription.handler(self._platform, event) or ():
                self._run(caused, outgoing)

    def deliver(self, message: ReceivedMessage) -> None:
        """Run the one handler a `domain-events` message names; a message no handler knows is permanent."""
        body = message.body
        subscription = self._by_name.get(str(body.get("handler")))
        kind = self._types.get(str(body.get("event")))
        if subscription is None or kind is None or not subscription.out_of_process:
            raise PermanentError("no out-of-process handler of this event here")
        try:
            event = kind.model_validate(body.get("data"))
        except ValidationError as exc:
            raise PermanentError(f"malformed {kind.name} event") from exc
        more = subscription.handler(self._platform, event) or ()
        log.info("event %s (%s) handled by %s", event.id, kind.name, subscription.name)
        self.publish(*more)


def _message(event: DomainEvent, subscription: Subscription) -> OutgoingMessage:
    return OutgoingMessage(
        body={"event": event.name, "handler": subscription.name, "data": event.model_dump(mode="json", by_alias=True)},
        message_id=f"{event.id}:{subscription.name}", subject=event.name)
