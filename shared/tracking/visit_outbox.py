"""A write-behind buffer between the redirect and the `tracking-events` queue.

The redirect must answer at the speed of a bare endpoint, and a queue send is its most expensive
step (a network round trip on Service Bus, a write transaction on the embedded queue). So a click
puts its visit event here and returns; a background thread sends what accumulated, as one batch,
every `flush_ms` milliseconds (or sooner when BATCH events wait), and at shutdown.

What this trades: events still in the buffer when a process dies hard (not a clean stop, which
flushes) are lost — at most `flush_ms` of clicks of one instance. They are click *counts* only:
attribution never depends on them, because the reference the visitor carries is signed and
self-contained (docs/decisions/0015). Duplicates cannot arise: each event has its own message id.
A failed send keeps the events for the next flush; past MAX_PENDING the oldest are dropped and
counted in a log line (ids only), so a queue outage cannot exhaust memory.

With `flush_ms` = 0 every `put` sends at once (tests, and anyone who prefers latency to loss).
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections import deque

from shared.ports.bus import QUEUE_TRACKING_EVENTS, MessageBus, OutgoingMessage

log = logging.getLogger(__name__)

BATCH = 100  # messages per send: Service Bus batches stay far below their 1 MB cap
MAX_PENDING = 50_000


class VisitOutbox:
    """Buffer of visit events, flushed to the tracking queue by a daemon thread."""

    def __init__(self, bus: MessageBus, *, flush_ms: int) -> None:
        self._bus = bus
        self._interval = flush_ms / 1000
        self._pending: deque[OutgoingMessage] = deque()
        self._lock = threading.Lock()  # one flush at a time, so batches leave in order
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.dropped = 0

    @property
    def immediate(self) -> bool:
        """Whether `put` sends at once (no buffering)."""
        return self._interval <= 0

    def put(self, message: OutgoingMessage) -> None:
        """Hand over one event: sent at once when immediate, else by the next flush."""
        if self.immediate:
            self._bus.send(QUEUE_TRACKING_EVENTS, [message])
            return
        self._pending.append(message)  # deque.append is atomic: no lock on the hot path
        overflow = len(self._pending) - MAX_PENDING
        for _ in range(max(overflow, 0)):
            self._pending.popleft()
            self.dropped += 1
        if self._thread is None:
            self._start()
        if len(self._pending) >= BATCH:
            self._wake.set()

    def pending(self) -> int:
        """Events waiting for the next flush."""
        return len(self._pending)

    def flush(self) -> int:
        """Send everything pending, in batches; returns how many were sent (failures stay pending)."""
        sent = 0
        with self._lock:
            while self._pending:
                batch = [self._pending.popleft() for _ in range(min(BATCH, len(self._pending)))]
                try:
                    self._bus.send(QUEUE_TRACKING_EVENTS, batch)
                except Exception as exc:  # noqa: BLE001 - keep the events, try again at the next flush
                    self._pending.extendleft(reversed(batch))
                    log.warning("visit events not sent yet (%d pending): %s", len(self._pending), type(exc).__name__)
                    break
                sent += len(batch)
        if self.dropped:
            log.warning("visit events dropped after a long queue outage: %d", self.dropped)
            self.dropped = 0
        return sent

    def close(self) -> None:
        """Stop the thread and send what is left (a clean shutdown loses nothing)."""
        self._stopped.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="visit-outbox", daemon=True)
            self._thread.start()
            atexit.register(self.close)

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            self.flush()
