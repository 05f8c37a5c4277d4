"""Local queue: messages per second sent, then handled end to end by the worker (SQLite queue, embedded default)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from shared.adapters.sqlite_bus import SqliteMessageBus
from shared.clock import Clock
from shared.messaging.worker import process_once
from shared.ports.bus import OutgoingMessage

MESSAGES = 5000
BATCH = 100


def run() -> list[str]:
    """Send MESSAGES in batches, then let the worker drain the queue with a handler that counts."""
    with tempfile.TemporaryDirectory() as folder:
        bus = SqliteMessageBus(Path(folder) / "queue.sqlite3", clock=Clock())
        handled = []
        started = time.perf_counter()
        for start in range(0, MESSAGES, BATCH):
            batch = [OutgoingMessage(body={"n": n}, message_id=f"m{n}") for n in range(start, start + BATCH)]
            bus.send("emails", batch)
        sent_seconds = time.perf_counter() - started
        started = time.perf_counter()
        while process_once(bus, "emails", lambda message: handled.append(message.message_id)):
            pass
        handled_seconds = time.perf_counter() - started
        bus.close()
    assert len(handled) == MESSAGES
    return [
        f"local queue: sent {MESSAGES} messages at {MESSAGES / sent_seconds:,.0f} msg/s (batches of {BATCH})",
        f"local queue: handled end to end by the worker at {MESSAGES / handled_seconds:,.0f} msg/s "
        f"(receive, handler, complete)",
    ]


if __name__ == "__main__":
    print("\n".join(run()))
