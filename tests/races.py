"""Helpers that make races and crashes happen on purpose, on the real embedded store.

`in_parallel` releases N calls at once; `overlap_reads` makes every caller's read of one
container wait (up to a second) until all of them have read, the widest window a check-then-write
can have; `Crash` raises from inside the store after a given number of writes, the way a killed
process stops between two steps.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from shared.adapters.folder_blobs import FolderBlobStore
from shared.adapters.sqlite_store import SqliteBrandStore

WRITES = ("create", "upsert", "replace", "patch", "delete")
BLOB_WRITES = ("put", "create", "delete")


def in_parallel(calls: int, call: Callable[[], Any]) -> list[Any]:
    """Run `call` `calls` times at once (threads released together); the answers in start order."""
    start = threading.Barrier(calls)

    def together(_: int) -> Any:
        start.wait()
        return call()

    with ThreadPoolExecutor(max_workers=calls) as pool:
        return list(pool.map(together, range(calls)))


def overlap_reads(monkeypatch, method: str, container: str, parties: int) -> None:
    """Each `method` ("query", "get") read of `container` waits until `parties` callers have read it."""
    barrier = threading.Barrier(parties, timeout=1)
    real = getattr(SqliteBrandStore, method)

    def read_then_wait(self, name, *args, **kwargs):
        found = real(self, name, *args, **kwargs)
        if name == container and not barrier.broken:
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass  # fewer callers read at once than hoped: no wider window to give
        return found

    monkeypatch.setattr(SqliteBrandStore, method, read_then_wait)


class Crash(Exception):  # noqa: N818 - a simulated process death, not an error of the code under test
    """Raised by the store in place of a write, as if the process had died just before it."""


class CrashPoint:
    """Counts the writes to `containers` (store containers, or blob containers such as the erasure journal);
    the `at`-th one raises Crash instead of writing (0: never)."""

    def __init__(self, monkeypatch, containers: Iterable[str]) -> None:
        self.containers, self.at, self.writes, self.fired = frozenset(containers), 0, 0, False
        for method in WRITES:
            monkeypatch.setattr(SqliteBrandStore, method, self._guarded(getattr(SqliteBrandStore, method)))
        for method in BLOB_WRITES:
            monkeypatch.setattr(FolderBlobStore, method, self._guarded(getattr(FolderBlobStore, method)))

    def arm(self, at: int) -> None:
        """Crash at the `at`-th counted write from now on (0 disarms)."""
        self.at, self.writes, self.fired = at, 0, False

    def during(self, at: int, call: Callable[[], Any]) -> Any:
        """Make `call` crash at its `at`-th counted write; its answer, None when the crash reached the caller."""
        self.arm(at)
        try:
            return call()
        except Crash:
            return None  # a test client re-raises what the app answered with a 500
        finally:
            self.at = 0  # disarmed; `fired` and `writes` tell what happened

    def _guarded(self, real):
        def write(store, container, *args, **kwargs):
            if container in self.containers:
                self.writes += 1
                if self.writes == self.at:
                    self.fired = True
                    raise Crash(f"crash before write {self.at} ({real.__name__} {container})")
            return real(store, container, *args, **kwargs)

        return write
