"""Optimistic concurrency in one place: read, decide, write with the etag read, and again when a writer won.

Every read-modify-write of a document that two callers can make at once goes through `retrying`
(any attempt shape: typed models, several documents, a claim then a write) or `update_document`
(one document changed by a pure function, created when missing). Both start each attempt from a
fresh read, so a lost race never writes from stale data. The adapters' own retries of transport
errors are another matter and stay inside the adapters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from shared.ports.store import BrandStore, Document, DocumentConflict, EtagMismatch

T = TypeVar("T")


class Retry(Exception):
    """Raised inside an attempt to start over from a fresh read without a store error (a claim lost, say)."""


def retrying(
    attempt: Callable[[], T],
    *,
    attempts: int,
    exhausted: Exception | Callable[[], T] | None = None,
    on: tuple[type[Exception], ...] = (EtagMismatch,),
) -> T:
    """Run `attempt` until it returns, again each time it raises one of `on` (or `Retry`), at most `attempts` times.

    When every attempt lost: `exhausted` is raised when it is an exception, called and its result
    returned when it is a function (a "no" answer rather than an error), and with None the last
    attempt's own error is raised again. Any other error of an attempt goes straight through.
    """
    lost: Exception | None = None
    for _ in range(attempts):
        try:
            return attempt()
        except (Retry, *on) as exc:
            lost = exc
    if isinstance(exhausted, Exception):
        raise exhausted
    if exhausted is not None:
        return exhausted()
    assert lost is not None, "attempts must be at least 1"
    raise lost


def update_document(
    store: BrandStore,
    container: str,
    id: str,
    change: Callable[[Document | None], Document | None],
    *,
    attempts: int,
    exhausted: Exception | Callable[[], None] | None = None,
    pk: str | None = None,
) -> tuple[Document | None, Document] | None:
    """Write `change(current)` over one document under the etag read; (before, after), or None when unchanged.

    `change` receives the stored document (None when there is none) and returns the whole new
    document, or None to write nothing; it may raise to refuse. A missing document is created, and
    a concurrent create of the same id counts as a lost race, as does a replace that met another
    etag: the document is read again and `change` asked again. `change` must not have side effects.
    `exhausted` is as in `retrying`.
    """

    def attempt() -> tuple[Document | None, Document] | None:
        before = store.find(container, id, pk=pk)
        after = change(None if before is None else dict(before))
        if after is None:
            return None
        if before is None:
            return None, store.create(container, after)
        return before, store.replace(container, after, etag=before["_etag"])

    return retrying(attempt, attempts=attempts, exhausted=exhausted, on=(EtagMismatch, DocumentConflict))
