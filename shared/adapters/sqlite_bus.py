"""The embedded message bus: a persistent SQLite queue with Service Bus semantics.

At-least-once peek-lock delivery, a delivery count, dead-lettering (explicit, or by the bus
past `max_delivery_count`), scheduled delivery and duplicate detection by message id within
a window, per queue. Several threads, and several processes on the same file, may send and
receive at once: `receive` takes its messages inside `BEGIN IMMEDIATE`, so two receivers
never lock the same message. Time comes only from the injected clock.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.clock import Clock
from shared.ports.bus import (
    QUEUES,
    MessageBus,
    MessageLockLost,
    OutgoingMessage,
    ReceivedMessage,
    decode_body,
    encode_body,
)

REASON_MAX_DELIVERY = "MaxDeliveryCountExceeded"

_ACTIVE = "active"
_DEAD = "dead"
_PURGE_EVERY_MICROS = 1_000_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    subject TEXT,
    enqueued_at INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    locked_until INTEGER,
    lock_token TEXT,
    delivery_count INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'active',
    dead_letter_reason TEXT
);
CREATE INDEX IF NOT EXISTS messages_due ON messages (queue, state, visible_at, seq);
CREATE UNIQUE INDEX IF NOT EXISTS messages_lock ON messages (lock_token) WHERE lock_token IS NOT NULL;
CREATE TABLE IF NOT EXISTS message_ids (
    queue TEXT NOT NULL,
    message_id TEXT NOT NULL,
    first_sent_at INTEGER NOT NULL,
    PRIMARY KEY (queue, message_id)
);
CREATE INDEX IF NOT EXISTS message_ids_age ON message_ids (first_sent_at);
"""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CLAIM_CHUNK = 300  # message ids per statement (three parameters each, far below SQLite's limit)


def _micros(instant: datetime) -> int:
    """Instants are stored as integer microseconds since the epoch: exact and ordered."""
    return (instant.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1)


def _instant(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


class SqliteMessageBus(MessageBus):
    """A real, persistent queue in one SQLite file (the embedded default of the bus port)."""

    def __init__(
        self,
        path: Path | str,
        *,
        clock: Clock,
        max_delivery_count: int = 10,
        lock_duration: timedelta = timedelta(seconds=60),
        duplicate_window: timedelta = timedelta(minutes=10),
    ) -> None:
        if str(path) == ":memory:":
            # Each thread has its own connection, and each would see its own empty database.
            raise ValueError("SqliteMessageBus needs a file path, not :memory:")
        if max_delivery_count < 1:
            raise ValueError("max_delivery_count must be at least 1")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self.max_delivery_count = max_delivery_count
        self.lock_duration = lock_duration
        self.duplicate_window = duplicate_window
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._closed = False
        self._purged_at = -_PURGE_EVERY_MICROS
        self._conn().executescript(_SCHEMA)

    # -- connections ------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        """One connection per thread: sqlite3 connections must not be shared across threads."""
        if self._closed:
            raise RuntimeError("the message bus is closed")
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # isolation_level=None: transactions are opened explicitly, BEGIN IMMEDIATE where it matters.
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the write lock up front, so readers never race to upgrade."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @staticmethod
    def _check_queue(queue: str) -> None:
        # Service Bus refuses a queue that does not exist; the local queue refuses it too.
        if queue not in QUEUES:
            raise ValueError(f"unknown queue {queue!r}; declared queues: {', '.join(QUEUES)}")

    # -- send side --------------------------------------------------------------------

    def send(self, queue: str, messages: list[OutgoingMessage]) -> None:
        """Enqueue messages; a message id already sent to this queue within the window is dropped."""
        self._check_queue(queue)
        now = _micros(self._clock.now())
        window_start = now - self.duplicate_window // timedelta(microseconds=1)
        rows = [(message, encode_body(message.body)) for message in messages]
        with self._write() as conn:
            if now - self._purged_at >= _PURGE_EVERY_MICROS or now < self._purged_at:
                # Housekeeping only, at most once a second: the insert below already treats an id
                # older than the window as new, so a hot sender pays no delete per send.
                conn.execute("DELETE FROM message_ids WHERE first_sent_at <= ?", (window_start,))
                self._purged_at = now
            new_ids = self._claim_ids(conn, queue, [message.message_id for message, _ in rows], now, window_start)
            conn.executemany(
                "INSERT INTO messages (queue, message_id, body, subject, enqueued_at, visible_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(queue, message.message_id, body, message.subject, now,
                  max(now, _micros(message.scheduled_for)) if message.scheduled_for else now)
                 for message, body in rows if new_ids.pop(message.message_id, None)],
            )

    @staticmethod
    def _claim_ids(conn: sqlite3.Connection, queue: str, message_ids: list[str], now: int,
                   window_start: int) -> dict[str, bool]:
        """The ids not sent to `queue` within the window (recorded as sent now); the others are duplicates.

        One statement per chunk rather than one per message: the redirect's batches of visits are the
        hot sender. Ids older than the window no longer count as duplicates (as on Service Bus); a
        duplicate within the window is dropped silently, like Service Bus does.
        """
        new: dict[str, bool] = {}
        for start in range(0, len(message_ids), _CLAIM_CHUNK):
            chunk = message_ids[start:start + _CLAIM_CHUNK]
            # Only "(?, ?, ?)" placeholders are joined into the text: every value is bound.
            statement = ("INSERT INTO message_ids (queue, message_id, first_sent_at) VALUES "  # noqa: S608
                         + ", ".join(["(?, ?, ?)"] * len(chunk))
                         + " ON CONFLICT (queue, message_id) DO UPDATE SET first_sent_at = excluded.first_sent_at"
                         " WHERE message_ids.first_sent_at <= ? RETURNING message_id")
            cursor = conn.execute(
                statement, [value for message_id in chunk for value in (queue, message_id, now)] + [window_start],
            )
            new.update(dict.fromkeys((row[0] for row in cursor), True))
        return new

    # -- receive side -----------------------------------------------------------------

    def receive(self, queue: str, *, max_messages: int = 32) -> list[ReceivedMessage]:
        """Lock and return up to `max_messages` due messages (redelivering those whose lock expired)."""
        self._check_queue(queue)
        now = _micros(self._clock.now())
        locked_until = now + self.lock_duration // timedelta(microseconds=1)
        delivered: list[ReceivedMessage] = []
        with self._write() as conn:
            while len(delivered) < max_messages:
                candidates = conn.execute(
                    "SELECT * FROM messages WHERE queue = ? AND state = ? AND visible_at <= ?"
                    " AND (locked_until IS NULL OR locked_until <= ?) ORDER BY seq LIMIT ?",
                    (queue, _ACTIVE, now, now, max_messages - len(delivered)),
                ).fetchall()
                if not candidates:
                    break
                for row in candidates:
                    if row["delivery_count"] >= self.max_delivery_count:
                        # Its last lock expired on the final allowed delivery: the bus gives up.
                        self._move_to_dead_letter(conn, row["seq"], REASON_MAX_DELIVERY)
                        continue
                    token = uuid.uuid4().hex
                    conn.execute(
                        "UPDATE messages SET locked_until = ?, lock_token = ?, delivery_count = delivery_count + 1"
                        " WHERE seq = ?",
                        (locked_until, token, row["seq"]),
                    )
                    delivered.append(self._to_received(row, delivery_count=row["delivery_count"] + 1, token=token))
        return delivered

    def complete(self, queue: str, message: ReceivedMessage) -> None:
        """The handler succeeded: remove the message; raises MessageLockLost when the lock expired."""
        with self._write() as conn:
            seq = self._locked_seq(conn, queue, message)
            conn.execute("DELETE FROM messages WHERE seq = ?", (seq,))

    def abandon(self, queue: str, message: ReceivedMessage) -> None:
        """Release the lock so the message is delivered again, or dead-letter it past the max count."""
        with self._write() as conn:
            seq = self._locked_seq(conn, queue, message)
            count = conn.execute("SELECT delivery_count FROM messages WHERE seq = ?", (seq,)).fetchone()[0]
            if count >= self.max_delivery_count:
                self._move_to_dead_letter(conn, seq, REASON_MAX_DELIVERY)
            else:
                conn.execute("UPDATE messages SET locked_until = NULL, lock_token = NULL WHERE seq = ?", (seq,))

    def dead_letter(self, queue: str, message: ReceivedMessage, *, reason: str) -> None:
        """Move a locked message to the dead-letter queue with a reason."""
        with self._write() as conn:
            seq = self._locked_seq(conn, queue, message)
            self._move_to_dead_letter(conn, seq, reason)

    def dead_letters(self, queue: str) -> list[ReceivedMessage]:
        """Messages in this queue's dead-letter queue, oldest first."""
        self._check_queue(queue)
        rows = (
            self._conn()
            .execute("SELECT * FROM messages WHERE queue = ? AND state = ? ORDER BY seq", (queue, _DEAD))
            .fetchall()
        )
        return [self._to_received(row, delivery_count=row["delivery_count"], token=None) for row in rows]

    def ping(self) -> None:
        """Raise if the database file cannot be read."""
        self._conn().execute("SELECT 1 FROM messages LIMIT 1").fetchall()

    def close(self) -> None:
        """Close every thread's connection."""
        with self._connections_lock:
            connections, self._connections = self._connections, []
            self._closed = True
        for conn in connections:
            conn.close()

    # -- helpers ----------------------------------------------------------------------

    def _locked_seq(self, conn: sqlite3.Connection, queue: str, message: ReceivedMessage) -> int:
        """The row this delivery still holds the lock of; MessageLockLost otherwise (as Service Bus)."""
        self._check_queue(queue)
        now = _micros(self._clock.now())
        row = conn.execute(
            "SELECT seq, locked_until FROM messages WHERE queue = ? AND lock_token = ? AND state = ?",
            (queue, message.lock_token, _ACTIVE),
        ).fetchone()
        if row is None or row["locked_until"] is None or row["locked_until"] <= now:
            raise MessageLockLost(f"lock lost for message {message.message_id} on queue {queue}")
        return int(row["seq"])

    @staticmethod
    def _move_to_dead_letter(conn: sqlite3.Connection, seq: int, reason: str) -> None:
        conn.execute(
            "UPDATE messages SET state = ?, dead_letter_reason = ?, locked_until = NULL, lock_token = NULL"
            " WHERE seq = ?",
            (_DEAD, reason, seq),
        )

    @staticmethod
    def _to_received(row: sqlite3.Row, *, delivery_count: int, token: str | None) -> ReceivedMessage:
        return ReceivedMessage(
            body=decode_body(row["body"]),
            message_id=row["message_id"],
            delivery_count=delivery_count,
            enqueued_at=_instant(row["enqueued_at"]),
            subject=row["subject"],
            lock_token=token,
            dead_letter_reason=row["dead_letter_reason"],
        )
