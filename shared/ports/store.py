"""The document store port: brand-scoped JSON documents in declared containers.

Every adapter (SQLite, Cosmos DB) implements `DocumentStore`; services reach data only
through the `BrandStore` handle returned by `DocumentStore.for_brand`, so a call that
crosses brands cannot be written by mistake. The contract tests in
`tests/contract/test_store_contract.py` hold every adapter to the behaviour described here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from shared.errors import DomainError

Document = dict[str, Any]
FilterOp = Literal["=", "!=", "<", "<=", ">", ">=", "contains", "has"]


class StoreError(DomainError):
    """Base of the store's own errors."""


class DocumentNotFound(StoreError):
    code = "not-found"
    status = 404
    title = "Not found"


class DocumentConflict(StoreError):
    """A create met an existing id (the idempotency primitive of the queue handlers)."""

    code = "conflict"
    status = 409
    title = "Conflict"


class EtagMismatch(StoreError):
    """A replace or patch with an etag lost the race: reload and retry."""

    code = "precondition-failed"
    status = 412
    title = "The document changed since it was read"


@dataclass(frozen=True)
class Filter:
    """One condition of a query: `path` is a dotted field path, e.g. "retention.dueAt".

    Besides comparisons: "contains" (a string field of the container's `text_paths` holds the value,
    a non-empty string, as a substring; characters compare exactly, so callers store and search a
    normalised form) and "has" (an array field of its `array_paths` holds the value, a string, as
    one of its elements).
    """

    path: str
    op: FilterOp
    value: Any


@dataclass(frozen=True)
class PatchOp:
    """One partial update: set a field, increment a number, or remove a field."""

    op: Literal["set", "incr", "remove"]
    path: str
    value: Any = None


class StoredDocument(NamedTuple):
    """A document as a backup keeps it: whole, without `_etag`, and when its ttl runs out.

    `expires_at` is the epoch second the document's `ttl` runs out, counted from its last write as
    Cosmos DB counts it; None when it does not expire.
    """

    doc: Document
    expires_at: float | None


@dataclass(frozen=True)
class Write:
    """One write of `BrandStore.write_batch`: create (the id must be new), replace (the document must
    exist; with an etag, unchanged since it was read) or upsert."""

    op: Literal["create", "replace", "upsert"]
    doc: Document
    etag: str | None = None


@dataclass
class Page:
    """One page of a query; pass `continuation` back to read the next one (None: last page)."""

    items: list[Document]
    continuation: str | None = None


class BrandStore(ABC):
    """Every document operation, scoped to one brand.

    Documents carry `id` and `brandId` (set by the handle; a document naming another brand is
    refused). Containers whose partition key is not `brandId` carry a `pk` field the caller sets
    to "<brandId>|<shard>"; see `shared.store_schema`. On those containers get / delete / patch
    need `pk=`, and a pk of another brand raises InvalidInput. Returned documents carry `_etag`
    for optimistic concurrency. An undeclared container name raises KeyError.
    """

    brand_id: str

    @abstractmethod
    def get(self, container: str, id: str, *, pk: str | None = None) -> Document:
        """Read one document; raises DocumentNotFound."""

    def find(self, container: str, id: str, *, pk: str | None = None) -> Document | None:
        """Read one document, or None when it does not exist."""
        try:
            return self.get(container, id, pk=pk)
        except DocumentNotFound:
            return None

    @abstractmethod
    def create(self, container: str, doc: Document) -> Document:
        """Insert a new document; raises DocumentConflict when the id exists."""

    @abstractmethod
    def upsert(self, container: str, doc: Document) -> Document:
        """Insert or replace unconditionally."""

    @abstractmethod
    def replace(self, container: str, doc: Document, *, etag: str | None = None) -> Document:
        """Replace an existing document; with an etag, raises EtagMismatch when it changed."""

    @abstractmethod
    def delete(self, container: str, id: str, *, pk: str | None = None, etag: str | None = None) -> None:
        """Delete one document; raises DocumentNotFound, or EtagMismatch with a stale etag."""

    @abstractmethod
    def patch(
        self, container: str, id: str, ops: list[PatchOp], *, pk: str | None = None, etag: str | None = None
    ) -> Document:
        """Apply set / incr / remove operations atomically and return the new document.

        Cosmos DB's rules, in every adapter: 1 to 10 operations; set and incr need the parent
        object to exist; incr on a missing field sets it; remove needs the field; id, brandId,
        pk and `_` fields cannot be patched. A refused operation raises InvalidInput and writes
        nothing.
        """

    @abstractmethod
    def write_batch(self, container: str, writes: list[Write]) -> list[Document]:
        """Several writes in one transaction: all of them, or none. The documents written, in order.

        1 to 100 writes (Cosmos DB's transactional batch), in one partition, each id once. A create
        meeting an existing id raises DocumentConflict, a replace of a missing document
        DocumentNotFound, a stale etag EtagMismatch: then nothing of the batch is written. Writing a
        hundred documents this way costs a fraction of a hundred single writes.
        """

    @abstractmethod
    def query(
        self,
        container: str,
        *,
        filters: list[Filter] | tuple[Filter, ...] = (),
        order_by: str | None = None,
        descending: bool = False,
        page_size: int = 100,
        continuation: str | None = None,
        pk: str | None = None,
        fields: tuple[str, ...] | None = None,
    ) -> Page:
        """Documents of this brand matching every filter, one page at a time.

        Comparisons follow Cosmos DB: values of different types never match (not even with
        "!="), a missing field matches nothing, None compares with "=" only. `order_by` is "id"
        or a declared indexed path, with id breaking ties; documents without that field (or
        with null) are left out, and the field should hold one type. Without `order_by`, pages
        come in id order. `continuation` is the adapter's own keyset token: it continues only
        the query (and brand) that issued it. On a `pk` container, `pk=` reads one partition,
        and without it the query reads every partition of this brand.

        `fields` projects: each item then holds only `id`, `_etag` and those dotted paths, nested
        as in the document ("address.city" → {"address": {"city": ...}}); a missing field is left
        out, a null one kept. Paths are identifiers, none inside another; it does not change which
        documents match, their order, or the continuation tokens. Reading a few fields of large
        documents costs a fraction of reading them whole.
        """

    @abstractmethod
    def platform(self) -> BrandStore:
        """The platform-scoped handle of the same store: the brand-independent lookups (link codes,
        SSO keys) a brand's own work sometimes has to update."""

    def query_all(self, container: str, **kwargs: Any) -> list[Document]:
        """Every page of a query, for small result sets only (settings, tests)."""
        items: list[Document] = []
        continuation = None
        while True:
            page = self.query(container, continuation=continuation, **kwargs)
            items.extend(page.items)
            continuation = page.continuation
            if continuation is None:
                return items


class DocumentStore(ABC):
    """The store itself: hands out brand-scoped handles and checks it can be reached."""

    @abstractmethod
    def for_brand(self, brand_id: str) -> BrandStore:
        """The handle through which every call for this brand goes."""

    @abstractmethod
    def ensure_schema(self) -> None:
        """Create the declared containers and indexes if they are missing."""

    def purge_expired(self) -> int:
        """Delete the documents whose `ttl` ran out, where the store does not do it by itself.

        Cosmos DB expires items natively (the default here does nothing); the SQLite store deletes
        them when this runs (the `purge_expired_documents` timer). Until then, code that must not use
        an expired document checks its own dates (a visit's click time against the window, a
        token's expiry), so an hour's delay changes what is stored, not what is done.
        """
        return 0

    @abstractmethod
    def export_documents(self, container: str) -> Iterator[StoredDocument]:
        """Every document of a container, in every brand and partition: what a backup reads.

        A document whose ttl ran out but that the store has not removed yet may come too (the
        caller compares `expires_at` with its clock); one written during the read may or may not.
        The order is the adapter's. Backups only: services read through `for_brand`.
        """

    @abstractmethod
    def ping(self) -> None:
        """Raise if the store cannot be reached (health check)."""

    def close(self) -> None:
        """Release connections."""


def filtered_page(
    store: BrandStore,
    container: str,
    keep: Callable[[Document], bool],
    *,
    page_size: int,
    continuation: str | None,
    max_reads: int,
    **query: Any,
) -> Page:
    """A page of a query keeping only the documents `keep` accepts (a test no index serves).

    Each store read asks for exactly the items still missing, so the store's own token resumes
    right after the last document looked at; at most `max_reads` reads, after which the page may
    hold fewer than `page_size` items with a continuation set (only a None continuation ends).
    """
    items: list[Document] = []
    for _ in range(max_reads):
        page = store.query(container, page_size=page_size - len(items), continuation=continuation, **query)
        items += [doc for doc in page.items if keep(doc)]
        continuation = page.continuation
        if continuation is None or len(items) >= page_size:
            break
    return Page(items=items, continuation=continuation)
