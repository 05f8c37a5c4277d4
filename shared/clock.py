"""The clock port: timezone-aware UTC, settable in tests, on the CLI (--now) and in local dev mode."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant ("2030-01-01T00:00:00Z"); a naive time is taken as UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """An SDK's datetime in UTC (a naive one is taken as UTC); None stays None."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def isoformat(value: datetime) -> str:
    """The one text form of an instant in documents and APIs: UTC, seconds precision, 'Z'."""
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Clock:
    """System UTC time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SettableClock(Clock):
    """A clock that tests, `--now` and the dev endpoint move; it stands still unless told.

    With `running=True` it keeps ticking from the set instant (local dev mode: the server
    plays a scenario day by day but time still passes between requests).
    """

    def __init__(self, start: datetime | None = None, *, running: bool = False) -> None:
        self._lock = threading.Lock()
        self._running = running
        self._set(start or datetime.now(UTC))

    def _set(self, instant: datetime) -> None:
        self._base = instant.astimezone(UTC)
        self._anchor = datetime.now(UTC)

    def now(self) -> datetime:
        with self._lock:
            if self._running:
                return self._base + (datetime.now(UTC) - self._anchor)
            return self._base

    def set(self, instant: datetime) -> None:
        """Jump to an instant (forwards or backwards)."""
        with self._lock:
            self._set(instant)

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta` and return the new now."""
        with self._lock:
            current = self._base + (datetime.now(UTC) - self._anchor if self._running else timedelta())
            self._set(current + delta)
            return self._base
