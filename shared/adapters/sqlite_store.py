"""The embedded document store: SQLite (stdlib), one table per declared container.

Each table holds (part, id, brand, etag, doc): `part` is the partition value (the brand, or the
document's `pk`), `doc` the JSON text. Every declared indexed path gets an expression index on
`json_extract` led by the partition column (and by the brand column on `pk` containers, whose
queries may span a brand's partitions), so filters and sorts read an index as Cosmos DB would.

Thread-safe: one connection per thread, WAL journal, a busy timeout, and BEGIN IMMEDIATE around
read-modify-write (patch), so the API, the queue worker and the timers can share one file.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from shared.adapters import document_rules as rules
from shared.clock import Clock
from shared.ports.store import (
    BrandStore,
    Document,
    DocumentConflict,
    DocumentNotFound,
    DocumentStore,
    EtagMismatch,
    Filter,
    Page,
    PatchOp,
    StoredDocument,
    Write,
)
from shared.store_schema import CONTAINERS, PLATFORM_SCOPE, ContainerSpec

BUSY_TIMEOUT_MS = 10_000
EXPORT_BATCH = 500


def _expr(path: str) -> str:
    # The literal must match the index expression exactly for SQLite to use the index.
    return f"json_extract(doc, '$.{path}')"


def _guard(path: str, kind: rules.ValueKind, op: str) -> str:
    """Extra condition keeping Cosmos DB's rule that values of different types never compare."""
    if kind == "number":
        return f" AND json_type(doc, '$.{path}') IN ('integer', 'real')"
    if kind == "bool":  # json_extract gives 1/0 for true/false: tell them apart from numbers
        return f" AND json_type(doc, '$.{path}') IN ('true', 'false')"
    if kind == "null":
        return f" AND json_type(doc, '$.{path}') = 'null'"
    if op in ("<", "<=", "!="):  # SQLite sorts every number below every text: bound from below
        return f" AND {_expr(path)} >= ''"
    return ""


def _text_table(table: str) -> str:
    return f"{table}__text"


def _items_table(table: str, path: str) -> str:
    return f"{table}__items__{path.replace('.', '_')}"


def _typed_text(row: str, path: str) -> str:
    """A string field of a trigger's row (`new` / `old`), NULL when missing or not a string."""
    return f"CASE WHEN json_type({row}.doc, '$.{path}') = 'text' THEN json_extract({row}.doc, '$.{path}') END"


# Trigram matching needs three characters; a shorter "contains" reads the field itself.
TRIGRAM = 3


def _search_rows(table: str, path: str, op: str) -> str:
    """The rowids a "contains" (of three characters or more) or a "has" condition's index holds."""
    if op == "has":
        return f'SELECT doc FROM "{_items_table(table, path)}" WHERE value = ?'  # noqa: S608
    text = _text_table(table)
    return f'SELECT rowid FROM "{text}" WHERE "{text}" MATCH ?'  # noqa: S608


def _search_sql(table: str, path: str, op: str) -> str:
    """A "contains" / "has" condition: the row's id among those the search index holds."""
    if op == "contains-short":
        return f"instr({_expr(path)}, ?) > 0 AND json_type(doc, '$.{path}') = 'text'"
    return f"rowid IN ({_search_rows(table, path, op)})"


_INDEXED_SEARCH = ("contains", "contains-sparse", "has", "has-sparse")


# Matches under which a substring drives its query (read its matches, sort them) rather than
# filtering the rows of the sort index as they come: a few thousand rowid reads cost less than a walk
# through an index whose rows seldom match.
SPARSE_MATCHES = 2000


def _indexed(condition: Filter) -> bool:
    """A condition one of the search indexes serves (a "contains" shorter than a trigram reads the field)."""
    return condition.op == "has" or (condition.op == "contains" and len(condition.value) >= TRIGRAM)


def _shape_ops(conn: sqlite3.Connection, table: str, spec: ContainerSpec, filters: list[Filter]) -> list[str]:
    """Each condition's form in SQL; the search ones marked "-sparse" when their few matches drive the query.

    The search conditions come first (see `query`). Their matches are counted, up to SPARSE_MATCHES,
    together (the intersection) when there are several.
    """
    searches = [condition for condition in filters if _indexed(condition)]
    ops = ["contains-short" if condition.op == "contains" and not _indexed(condition) else condition.op
           for condition in filters]
    def few(*conditions: Filter) -> bool:
        rows = " INTERSECT ".join(_search_rows(table, condition.path, condition.op) for condition in conditions)
        probe = f"SELECT count(*) FROM ({rows} LIMIT ?)"  # noqa: S608
        values = (*(_bound(spec, condition) for condition in conditions), SPARSE_MATCHES)
        return conn.execute(probe, values).fetchone()[0] < SPARSE_MATCHES

    # One condition with few matches makes their intersection small: no need to build it to know.
    if any(few(condition) for condition in searches) or (len(searches) > 1 and few(*searches)):
        ops[:len(searches)] = [f"{op}-sparse" for op in ops[:len(searches)]]
    return ops


def _bound(spec: ContainerSpec, condition: Filter) -> Any:
    """The value a condition binds: a trigram search is an FTS5 phrase on the path's own column."""
    if condition.op == "contains" and len(condition.value) >= TRIGRAM:
        phrase = condition.value.replace('"', '""')
        return f'p{spec.text_paths.index(condition.path)} : "{phrase}"'
    return condition.value


def _filter_sql(table: str, path: str, op: str, kind: rules.ValueKind) -> str:
    if op == "contains-short":
        return _search_sql(table, path, op)
    comparison = "IS" if kind == "null" else op
    # The id column (the same text as the document's id) lets "sort key = v AND id > w" walk the
    # (part, key, id) index; json_extract(doc, '$.id') would read every row with that key.
    operand = "id" if path == "id" else _expr(path)
    return f"{operand} {comparison} ?{_guard(path, kind, op)}"


@lru_cache(maxsize=1024)
def _query_sql(
    table: str,
    scope: str,
    filters: tuple[tuple[str, str, rules.ValueKind], ...],
    order_by: str | None,
    descending: bool,
    keyset: rules.ValueKind | None,
    fields: tuple[str, ...] | None = None,
) -> str:
    """The SELECT of one query shape (cached: shapes repeat, values are bound)."""
    # Search conditions come first (the query binds their values first). When few documents match
    # them (all of them together), their matches drive the query: read, then sorted. Every other
    # term is then written with a unary plus, which keeps SQLite from reading an index for it (it
    # would rather walk the whole sort index, checking each row). When many match, walking the sort
    # index checking each row against them stops after a page, which is the cheaper plan.
    searches = [(path, op.removesuffix("-sparse")) for path, op, _ in filters if op in _INDEXED_SEARCH]
    drive = []
    if searches and filters[0][1].endswith("-sparse"):
        drive = [f"rowid IN ({' INTERSECT '.join(_search_rows(table, path, op) for path, op in searches)})"]
    where = [f"{scope} = ?", *(drive or [_search_sql(table, path, op) for path, op in searches])]
    where += [_filter_sql(table, path, op, kind) for path, op, kind in filters if op not in _INDEXED_SEARCH]
    direction, after = ("DESC", "<") if descending else ("ASC", ">")
    if order_by is None:
        if keyset is not None:
            where.append(f"id {after} ?")
        order = f"id {direction}"
    else:
        where.append(f"{_expr(order_by)} IS NOT NULL")
        if keyset is not None:
            # Spelled out rather than a row value `(expr, id) > (?, ?)`, which SQLite does not
            # turn into an index range on an expression index.
            sort_key = _expr(order_by)
            where.append(
                f"{sort_key} {after}= ? AND ({sort_key} {after} ? OR id {after} ?){_guard(order_by, keyset, after)}"
            )
        order = f"{_expr(order_by)} {direction}, id {direction}"
    if drive:
        where = [clause if clause in drive else _unindexed(clause) for clause in where]
    columns = "etag, doc"
    if fields is not None:
        # `->` gives each value's JSON text (NULL when missing, 'null' when null), the sort key for
        # the continuation token, and never the whole document back to Python.
        sort_value = f"doc -> '$.{order_by}'" if order_by else "NULL"
        columns = ", ".join(["etag", "id", sort_value, *(f"doc -> '$.{path}'" for path in fields)])
    # Only declared names and validated identifier paths are formatted in; values are bound.
    return f'SELECT {columns} FROM "{table}" WHERE {" AND ".join(where)} ORDER BY {order} LIMIT ?'  # noqa: S608


_COLUMN_TERM = re.compile(r"(?<![\w+.$])(part|brand|id|json_extract)\b(?!\s*\.)")


def _unindexed(clause: str) -> str:
    """The clause with each column and expression it compares behind a unary plus (no index for it)."""
    return _COLUMN_TERM.sub(lambda match: "+" + match.group(1), clause)


def _ddl(spec: ContainerSpec) -> list[str]:
    """CREATE statements of one container: the table, then its expression indexes."""
    name = spec.name
    statements = [
        f'CREATE TABLE IF NOT EXISTS "{name}" (part TEXT NOT NULL, id TEXT NOT NULL, brand TEXT NOT NULL, '
        f"etag TEXT NOT NULL, doc TEXT NOT NULL, expires REAL, PRIMARY KEY (part, id))"
    ]
    if spec.ttl_enabled:
        statements.append(f'CREATE INDEX IF NOT EXISTS "ix_{name}_expires" ON "{name}" (expires) '
                          "WHERE expires IS NOT NULL")
    # `pk` containers are also queried across a brand's partitions: index by brand as well.
    leading = ["part", "brand"] if spec.partition_key == "pk" else ["part"]
    for path in spec.indexed_paths:
        slug = path.replace(".", "_")
        for column in leading:
            statements.append(
                f'CREATE INDEX IF NOT EXISTS "ix_{name}_{column}_{slug}" ON "{name}" ({column}, {_expr(path)}, id)'
            )
    if spec.partition_key == "pk":
        statements.append(f'CREATE INDEX IF NOT EXISTS "ix_{name}_brand_id" ON "{name}" (brand, id)')
    return statements


def _search_ddl(spec: ContainerSpec) -> list[tuple[str, list[str], str]]:
    """The search indexes of a container: (table, its CREATE statements, the backfill of existing rows).

    Triggers keep them in step with the documents inside each write's own transaction, so a
    document and its index entries are never seen apart; an update rewrites an index only when
    its field changed.
    """
    name, out = spec.name, []
    if spec.text_paths:
        text = _text_table(name)
        columns = ", ".join(f"p{index}" for index in range(len(spec.text_paths)))

        def values(row: str) -> str:
            return ", ".join(_typed_text(row, path) for path in spec.text_paths)

        changed = " OR ".join(f"({_typed_text('old', p)}) IS NOT ({_typed_text('new', p)})" for p in spec.text_paths)
        insert = f'INSERT INTO "{text}" (rowid, {columns}) VALUES (new.rowid, {values("new")});'  # noqa: S608
        delete = f'DELETE FROM "{text}" WHERE rowid = old.rowid;'  # noqa: S608
        out.append((text, [
            # case_sensitive: the same exact substring semantics as Cosmos DB's CONTAINS.
            f'CREATE VIRTUAL TABLE "{text}" USING fts5({columns}, tokenize = \'trigram case_sensitive 1\')',
            f'CREATE TRIGGER "{text}_insert" AFTER INSERT ON "{name}" BEGIN {insert} END',
            f'CREATE TRIGGER "{text}_delete" AFTER DELETE ON "{name}" BEGIN {delete} END',
            f'CREATE TRIGGER "{text}_update" AFTER UPDATE OF doc ON "{name}" WHEN {changed} '
            f"BEGIN {delete} {insert} END",
        ], f'INSERT INTO "{text}" (rowid, {columns}) SELECT rowid, {values(name)} FROM "{name}"'))  # noqa: S608
    for path in spec.array_paths:
        items = _items_table(name, path)

        def elements(row: str, path: str = path, source: str = "") -> str:
            return (f"SELECT DISTINCT {row}.rowid, value FROM {source}json_each({row}.doc, '$.{path}') "  # noqa: S608
                    f"WHERE json_type({row}.doc, '$.{path}') = 'array' AND type = 'text'")

        insert = f'INSERT INTO "{items}" (doc, value) {elements("new")};'
        source = f'"{name}", '  # the backfill reads the table's own rows
        delete = f'DELETE FROM "{items}" WHERE doc = old.rowid;'  # noqa: S608
        out.append((items, [
            f'CREATE TABLE "{items}" (doc INTEGER NOT NULL, value TEXT NOT NULL)',
            f'CREATE INDEX "ix_{items}_value" ON "{items}" (value, doc)',
            f'CREATE INDEX "ix_{items}_doc" ON "{items}" (doc)',
            f'CREATE TRIGGER "{items}_insert" AFTER INSERT ON "{name}" BEGIN {insert} END',
            f'CREATE TRIGGER "{items}_delete" AFTER DELETE ON "{name}" BEGIN {delete} END',
            f'CREATE TRIGGER "{items}_update" AFTER UPDATE OF doc ON "{name}" WHEN '
            f"json_extract(old.doc, '$.{path}') IS NOT json_extract(new.doc, '$.{path}') BEGIN {delete} {insert} END",
        ], f'INSERT INTO "{items}" (doc, value) {elements(name, source=source)}'))
    return out


class _Statements:
    """Point-operation SQL for one table."""

    def __init__(self, table: str) -> None:
        # `table` is a declared container name (shared.store_schema), never input.
        key = "WHERE part = ? AND id = ?"
        self.get = f'SELECT etag, doc FROM "{table}" {key}'  # noqa: S608
        # `expires` (epoch seconds) is set only where the container has ttl on and the document a `ttl`.
        self.insert = (f'INSERT INTO "{table}" (part, id, brand, etag, doc, expires)'  # noqa: S608
                       " VALUES (?, ?, ?, ?, ?, ?)")
        self.upsert = self.insert + (" ON CONFLICT (part, id) DO UPDATE SET etag = excluded.etag, doc = excluded.doc,"
                                     " expires = excluded.expires")
        self.update = f'UPDATE "{table}" SET etag = ?, doc = ?, expires = ? {key}'  # noqa: S608
        self.purge = f'DELETE FROM "{table}" WHERE expires IS NOT NULL AND expires <= ?'  # noqa: S608
        self.update_if = self.update + " AND etag = ?"
        self.delete = f'DELETE FROM "{table}" {key}'  # noqa: S608
        self.delete_if = self.delete + " AND etag = ?"
        self.exists = f'SELECT 1 FROM "{table}" {key}'  # noqa: S608
        # The whole table in primary-key order, a batch at a time (backups).
        self.export = (f'SELECT part, id, doc, expires FROM "{table}" WHERE (part, id) > (?, ?)'  # noqa: S608
                       " ORDER BY part, id LIMIT ?")


def _new_etag() -> str:
    return str(uuid.uuid4())


class SqliteDocumentStore(DocumentStore):
    """Documents in one SQLite file; the embedded default and the unit tests' store."""

    def __init__(self, path: Path | str, *, clock: Clock | None = None) -> None:
        if str(path) == ":memory:" or str(path).startswith("file:"):
            # Each thread has its own connection: an in-memory database would not be shared.
            raise ValueError("SqliteDocumentStore needs a file path (tests: tmp_path / 'store.sqlite3')")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._statements = {name: _Statements(name) for name in CONTAINERS}
        self._closed = False
        self._clock = clock or Clock()

    def expires(self, container: str, doc: Document) -> float | None:
        """When a document written now expires, as Cosmos DB's per-item ttl counts: from its last write."""
        return rules.expires_at(rules.container_spec(container), doc, self._clock.now().timestamp())

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
        return conn

    def _connect(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError("the document store is closed")
        # Autocommit: each statement is its own transaction; patch opens BEGIN IMMEDIATE itself.
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, cached_statements=512)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL is crash-safe under WAL (a power cut may lose the last commits, never corrupt).
        conn.execute("PRAGMA synchronous = NORMAL")
        self._local.conn = conn
        with self._lock:
            self._connections.append(conn)
        return conn

    def statements(self, container: str) -> _Statements:
        """The point statements of a declared container."""
        try:
            return self._statements[container]
        except KeyError:
            rules.container_spec(container)  # raises the clear message
            raise

    def for_brand(self, brand_id: str) -> BrandStore:
        """The handle through which every call for this brand goes."""
        return SqliteBrandStore(self, rules.check_brand_id(brand_id))

    def ensure_schema(self) -> None:
        """Create every declared table and expression index (idempotent)."""
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            for spec in CONTAINERS.values():
                conn.execute(_ddl(spec)[0])
                columns = {row[1] for row in conn.execute(f'PRAGMA table_info("{spec.name}")')}
                if "expires" not in columns:  # a data folder made before expiry existed
                    conn.execute(f'ALTER TABLE "{spec.name}" ADD COLUMN expires REAL')
                for statement in _ddl(spec)[1:]:
                    conn.execute(statement)
                for table, statements, backfill in _search_ddl(spec):
                    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone() is None:
                        for statement in statements:
                            conn.execute(statement)
                        conn.execute(backfill)  # a data folder made before this index existed
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def purge_expired(self) -> int:
        """Delete the documents whose ttl ran out (Cosmos DB does it by itself); how many went."""
        now = self._clock.now().timestamp()
        conn = self.connection()
        return sum(conn.execute(self._statements[spec.name].purge, (now,)).rowcount
                   for spec in CONTAINERS.values() if spec.ttl_enabled)

    def export_documents(self, container: str) -> Iterator[StoredDocument]:
        """Every document of a container, a batch at a time in primary-key order (no cursor held between batches)."""
        sql = self.statements(container)
        after = ("", "")
        while True:
            rows = self.connection().execute(sql.export, (*after, EXPORT_BATCH)).fetchall()
            for _part, _id, text, expires in rows:
                yield StoredDocument(json.loads(text), expires)
            if len(rows) < EXPORT_BATCH:
                return
            after = (rows[-1][0], rows[-1][1])

    def ping(self) -> None:
        """Raise if the database file cannot be read."""
        self.connection().execute("SELECT 1").fetchone()

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()


class SqliteBrandStore(BrandStore):
    """Every document operation of one brand on the SQLite store."""

    def __init__(self, store: SqliteDocumentStore, brand_id: str) -> None:
        self._store = store
        self.brand_id = brand_id

    def platform(self) -> BrandStore:
        """The platform-scoped handle of the same store."""
        return self._store.for_brand(PLATFORM_SCOPE)

    def get(self, container: str, id: str, *, pk: str | None = None) -> Document:
        """Read one document; raises DocumentNotFound."""
        sql = self._store.statements(container)
        part = rules.partition_of(rules.container_spec(container), self.brand_id, pk)
        row = self._store.connection().execute(sql.get, (part, id)).fetchone()
        if row is None:
            raise DocumentNotFound(f"no {container} document with that id")
        doc = json.loads(row[1])
        doc["_etag"] = row[0]
        return doc

    def create(self, container: str, doc: Document) -> Document:
        """Insert a new document; raises DocumentConflict when the id exists."""
        sql = self._store.statements(container)
        part, clean = rules.prepare_document(rules.container_spec(container), self.brand_id, doc)
        etag = _new_etag()
        try:
            self._store.connection().execute(sql.insert, (part, clean["id"], self.brand_id, etag, rules.to_json(clean),
                                                          self._store.expires(container, clean)))
        except sqlite3.IntegrityError:
            raise DocumentConflict(f"a {container} document with that id exists") from None
        clean["_etag"] = etag
        return clean

    def upsert(self, container: str, doc: Document) -> Document:
        """Insert or replace unconditionally."""
        sql = self._store.statements(container)
        part, clean = rules.prepare_document(rules.container_spec(container), self.brand_id, doc)
        etag = _new_etag()
        self._store.connection().execute(sql.upsert, (part, clean["id"], self.brand_id, etag, rules.to_json(clean),
                                                      self._store.expires(container, clean)))
        clean["_etag"] = etag
        return clean

    def replace(self, container: str, doc: Document, *, etag: str | None = None) -> Document:
        """Replace an existing document; with an etag, raises EtagMismatch when it changed."""
        sql = self._store.statements(container)
        part, clean = rules.prepare_document(rules.container_spec(container), self.brand_id, doc)
        new_etag = _new_etag()
        key = (part, clean["id"])
        values = (new_etag, rules.to_json(clean), self._store.expires(container, clean), *key)
        if etag is None:
            cursor = self._store.connection().execute(sql.update, values)
        else:
            cursor = self._store.connection().execute(sql.update_if, (*values, etag))
        if cursor.rowcount == 0:
            self._raise_missing_or_changed(sql, key, container)
        clean["_etag"] = new_etag
        return clean

    def delete(self, container: str, id: str, *, pk: str | None = None, etag: str | None = None) -> None:
        """Delete one document; raises DocumentNotFound (or EtagMismatch with a stale etag)."""
        sql = self._store.statements(container)
        key = (rules.partition_of(rules.container_spec(container), self.brand_id, pk), id)
        if etag is None:
            cursor = self._store.connection().execute(sql.delete, key)
        else:
            cursor = self._store.connection().execute(sql.delete_if, (*key, etag))
        if cursor.rowcount == 0:
            self._raise_missing_or_changed(sql, key, container)

    def _raise_missing_or_changed(self, sql: _Statements, key: tuple[str, str], container: str) -> None:
        if self._store.connection().execute(sql.exists, key).fetchone() is None:
            raise DocumentNotFound(f"no {container} document with that id")
        raise EtagMismatch()

    def patch(
        self, container: str, id: str, ops: list[PatchOp], *, pk: str | None = None, etag: str | None = None
    ) -> Document:
        """Apply set / incr / remove operations atomically and return the new document."""
        sql = self._store.statements(container)
        key = (rules.partition_of(rules.container_spec(container), self.brand_id, pk), id)
        ops = rules.check_patch_ops(ops)
        conn = self._store.connection()
        # IMMEDIATE takes the write lock before reading, so concurrent increments serialise.
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(sql.get, key).fetchone()
            if row is None:
                raise DocumentNotFound(f"no {container} document with that id")
            if etag is not None and row[0] != etag:
                raise EtagMismatch()
            doc = rules.apply_patch(json.loads(row[1]), ops)
            new_etag = _new_etag()
            conn.execute(sql.update, (new_etag, rules.to_json(doc), self._store.expires(container, doc), *key))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        doc["_etag"] = new_etag
        return doc

    def write_batch(self, container: str, writes: list[Write]) -> list[Document]:
        """Several writes in one transaction (one commit: the cost of a single write, not of many)."""
        spec = rules.container_spec(container)
        sql = self._store.statements(container)
        part, checked = rules.check_batch(spec, self.brand_id, writes)
        conn = self._store.connection()
        written = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for write, clean in checked:
                etag = _new_etag()
                row = (etag, rules.to_json(clean), self._store.expires(container, clean))
                if write.op == "create":
                    try:
                        conn.execute(sql.insert, (part, clean["id"], self.brand_id, *row))
                    except sqlite3.IntegrityError:
                        raise DocumentConflict(f"a {container} document with that id exists") from None
                elif write.op == "upsert":
                    conn.execute(sql.upsert, (part, clean["id"], self.brand_id, *row))
                else:
                    key = (part, clean["id"])
                    cursor = (conn.execute(sql.update, (*row, *key)) if write.etag is None
                              else conn.execute(sql.update_if, (*row, *key, write.etag)))
                    if cursor.rowcount == 0:
                        self._raise_missing_or_changed(sql, key, container)
                written.append({**clean, "_etag": etag})
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return written

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
        """Documents of this brand matching every filter, one page at a time (keyset paging)."""
        spec = rules.container_spec(container)
        part = rules.query_partition(spec, self.brand_id, pk)
        order_path = rules.check_order_by(spec, order_by)
        rules.check_page_size(page_size)
        projection = rules.check_fields(fields)
        kinds = {id(f): rules.check_filter(spec, f) for f in filters}
        # Search conditions an index serves first, as the SQL binds them (`_query_sql`).
        filters = sorted(filters, key=lambda f: not _indexed(f))
        ops = _shape_ops(self._store.connection(), container, spec, filters)
        shape = tuple((f.path, op, kinds[id(f)]) for f, op in zip(filters, ops, strict=True))
        params: list[Any] = [self.brand_id if part is None else part]
        params += [_bound(spec, f) for f in filters]
        fingerprint = rules.query_fingerprint(
            self.brand_id, container, pk, order_by, descending, [(f.path, f.op, f.value) for f in filters]
        )
        keyset: rules.ValueKind | None = None
        if continuation is not None:
            last_value, last_id = rules.decode_continuation(continuation, fingerprint)
            if order_path is None:
                keyset = "text"
                params.append(last_id)
            else:
                keyset = rules.value_kind(last_value)
                params += [last_value, last_value, last_id]
        sql = _query_sql(
            container, "brand" if part is None else "part", shape, order_path, descending, keyset, projection
        )
        params.append(page_size + 1)
        rows = self._store.connection().execute(sql, params).fetchall()
        if projection is not None:
            return self._projected_page(rows, projection, page_size, fingerprint)
        items = []
        for etag, text in rows[:page_size]:
            doc = json.loads(text)
            doc["_etag"] = etag
            items.append(doc)
        if len(rows) <= page_size:
            return Page(items)
        last = items[-1]
        last_value = rules.value_at(last, order_path) if order_path else None
        return Page(items, rules.encode_continuation(fingerprint, last_value, last["id"]))

    @staticmethod
    def _projected_page(rows: list[tuple], paths: tuple[str, ...], page_size: int, fingerprint: str) -> Page:
        items = [
            rules.projected(doc_id, etag, [
                (path, json.loads(text)) for path, text in zip(paths, values, strict=True) if text is not None
            ])
            for etag, doc_id, _, *values in rows[:page_size]
        ]
        if len(rows) <= page_size:
            return Page(items)
        last_sort = rows[page_size - 1][2]
        last_value = json.loads(last_sort) if last_sort is not None else None
        return Page(items, rules.encode_continuation(fingerprint, last_value, items[-1]["id"]))
