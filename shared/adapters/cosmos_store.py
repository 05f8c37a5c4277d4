"""The production document store: Azure Cosmos DB for NoSQL (azure-cosmos), EU regions only.

Every query names the brand (`c.brandId = @brand`) in its WHERE clause, and `c.pk = @pk` when it
reads one partition of a `pk` container: defence in depth on Cosmos DB, and required by the local
Cosmos-protocol server, which ignores the partition-key header on queries. Values are always
bound as parameters; only declared names and validated identifier paths are formatted in.

Paging uses this adapter's own keyset tokens (ORDER BY the sort field then id, TOP n + 1, and the
next page starts after the last item), not the SDK's continuation tokens: those are not reliable
for cross-partition ORDER BY queries in the Python SDK, and keyset paging also lets the SQLite
adapter hand out the same kind of token. See docs/decisions/0001-document-store.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from azure.cosmos import ContainerProxy, CosmosClient, PartitionKey
from azure.cosmos import exceptions as cosmos_errors

from shared.adapters import document_rules as rules
from shared.config import Settings
from shared.errors import InvalidInput, TransientError
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

_TRANSIENT_STATUS = frozenset({408, 429, 449, 500, 502, 503, 504})
# Items per page of a backup's read (a page is one request; Cosmos DB caps a response at 4 MB anyway).
EXPORT_PAGE = 1000
_TYPE_CHECK = {"text": "IS_STRING", "number": "IS_NUMBER", "bool": "IS_BOOL"}


def _index_path(field: str) -> str:
    return "/" + field.replace(".", "/")


def indexing_policy(spec: ContainerSpec) -> dict[str, Any]:
    """The Cosmos DB indexing policy of a declared container (the infra test reuses it).

    Only what queries use is indexed (cheaper writes): the declared paths, the partition key,
    `brandId` and `id`. Each declared path gets composite indexes with `id`, ascending and
    descending, because every sorted query orders by (path, id) for stable keyset paging.
    """
    fields = dict.fromkeys(("id", "brandId", spec.partition_key, *spec.indexed_paths, *spec.text_paths))
    return {
        "indexingMode": "consistent",
        "automatic": True,
        # Text paths: CONTAINS reads their range index; array paths: ARRAY_CONTAINS their elements'.
        "includedPaths": [{"path": f"{_index_path(field)}/?"} for field in fields]
        + [{"path": f"{_index_path(path)}/[]/?"} for path in spec.array_paths],
        "excludedPaths": [{"path": "/*"}],
        "compositeIndexes": [
            [{"path": _index_path(path), "order": order}, {"path": "/id", "order": order}]
            for path in spec.indexed_paths
            for order in ("ascending", "descending")
        ],
    }


@contextmanager
def _translated(container: str) -> Iterator[None]:
    """Cosmos DB errors as the port's errors (messages carry no document content)."""
    try:
        yield
    except cosmos_errors.CosmosResourceNotFoundError:
        raise DocumentNotFound(f"no {container} document with that id") from None
    except cosmos_errors.CosmosResourceExistsError:
        raise DocumentConflict(f"a {container} document with that id exists") from None
    except cosmos_errors.CosmosHttpResponseError as exc:
        if exc.status_code == 412:
            raise EtagMismatch() from None
        if exc.status_code == 400:
            raise InvalidInput(f"Cosmos DB refused the {container} operation as a bad request") from None
        if exc.status_code in _TRANSIENT_STATUS:
            raise TransientError(f"Cosmos DB answered {exc.status_code}") from exc
        raise
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise TransientError("Cosmos DB could not be reached") from exc


def _field(path: str) -> str:
    # Bracket notation: safe for reserved words ("value", "order"); segments are identifiers.
    return "c" + "".join(f'["{segment}"]' for segment in rules.path_segments(path))


def _filter_sql(condition: Filter, kind: rules.ValueKind, name: str) -> str:
    field = _field(condition.path)
    if condition.op == "contains":
        return f"CONTAINS({field}, {name})"
    if condition.op == "has":
        return f"ARRAY_CONTAINS({field}, {name})"
    if kind == "null":
        return f"IS_NULL({field})"
    if condition.op == "!=":
        # Cosmos DB: a comparison across types is undefined (no match); the local server says
        # true for "!=", so the type is checked explicitly and both agree.
        return f"{_TYPE_CHECK[kind]}({field}) AND {field} != {name}"
    return f"{field} {condition.op} {name}"


def _clean(item: dict[str, Any]) -> Document:
    return rules.strip_system_fields(dict(item))


class CosmosDocumentStore(DocumentStore):
    """Documents in Cosmos DB: key auth when a key is set, else managed identity."""

    def __init__(self, settings: Settings) -> None:
        if not settings.cosmos_endpoint:
            raise ValueError("POPSELL_COSMOS_ENDPOINT is required when POPSELL_STORE=cosmos")
        credential: Any = settings.cosmos_key
        if not credential:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential()
        self._client = CosmosClient(
            settings.cosmos_endpoint,
            credential=credential,
            preferred_locations=list(settings.cosmos_regions),
            connection_verify=settings.cosmos_verify_tls,
        )
        self._database = self._client.get_database_client(settings.cosmos_database)
        self._database_name = settings.cosmos_database
        self._containers = {name: self._database.get_container_client(name) for name in CONTAINERS}

    def container(self, name: str) -> ContainerProxy:
        """The client of a declared container."""
        rules.container_spec(name)
        return self._containers[name]

    def for_brand(self, brand_id: str) -> BrandStore:
        """The handle through which every call for this brand goes."""
        return CosmosBrandStore(self, rules.check_brand_id(brand_id))

    def ensure_schema(self) -> None:
        """Create the database and the declared containers if missing (infra owns them in Azure)."""
        with _translated("schema"):
            database = self._client.create_database_if_not_exists(self._database_name)
            for spec in CONTAINERS.values():
                extra = {"default_ttl": -1} if spec.ttl_enabled else {}
                database.create_container_if_not_exists(
                    spec.name,
                    partition_key=PartitionKey(path=spec.partition_key_path),
                    indexing_policy=indexing_policy(spec),
                    **extra,
                )

    def export_documents(self, container: str) -> Iterator[StoredDocument]:
        """Every item of a container across partitions; the ttl counts from `_ts`, the item's last write."""
        spec = rules.container_spec(container)
        with _translated(container):
            for item in self.container(container).query_items(
                query="SELECT * FROM c", enable_cross_partition_query=True, max_item_count=EXPORT_PAGE
            ):
                expires = rules.expires_at(spec, item, item["_ts"])
                doc = rules.strip_system_fields(dict(item))
                doc.pop("_etag", None)
                yield StoredDocument(doc, expires)

    def ping(self) -> None:
        """Raise if the database cannot be read."""
        with _translated("database"):
            self._database.read()

    def close(self) -> None:
        """Release the HTTP connections."""
        self._client.close()


class CosmosBrandStore(BrandStore):
    """Every document operation of one brand on Cosmos DB."""

    def __init__(self, store: CosmosDocumentStore, brand_id: str) -> None:
        self._store = store
        self.brand_id = brand_id

    def platform(self) -> BrandStore:
        """The platform-scoped handle of the same store."""
        return self._store.for_brand(PLATFORM_SCOPE)

    def get(self, container: str, id: str, *, pk: str | None = None) -> Document:
        """Read one document; raises DocumentNotFound."""
        client = self._store.container(container)
        part = rules.partition_of(rules.container_spec(container), self.brand_id, pk)
        with _translated(container):
            try:
                item = client.read_item(id, partition_key=part)
            except cosmos_errors.CosmosHttpResponseError as exc:
                if exc.status_code != 500:
                    raise
                # The local Cosmos server answers 500 (not 404) for a missing item; on Cosmos DB a
                # 500 is rare and worth one retry anyway. A point query settles both.
                item = self._point_query(client, container, id, part)
        if item.get("brandId") != self.brand_id:
            raise DocumentNotFound(f"no {container} document with that id")
        return _clean(item)

    def _point_query(self, client: ContainerProxy, container: str, id: str, part: str) -> dict[str, Any]:
        partition_field = rules.container_spec(container).partition_key
        found = list(
            client.query_items(
                query=f"SELECT * FROM c WHERE c.brandId = @brand AND c.{partition_field} = @part AND c.id = @id",  # noqa: S608
                parameters=[
                    {"name": "@brand", "value": self.brand_id},
                    {"name": "@part", "value": part},
                    {"name": "@id", "value": id},
                ],
                partition_key=part,
            )
        )
        if not found:
            raise DocumentNotFound(f"no {container} document with that id")
        return found[0]

    def create(self, container: str, doc: Document) -> Document:
        """Insert a new document; raises DocumentConflict when the id exists."""
        client = self._store.container(container)
        _, clean = rules.prepare_document(rules.container_spec(container), self.brand_id, doc)
        rules.to_json(clean)  # refuse non-JSON values as InvalidInput before the SDK's TypeError
        with _translated(container):
            return _clean(client.create_item(body=clean))

    def upsert(self, container: str, doc: Document) -> Document:
        """Insert or replace unconditionally."""
        client = self._store.container(container)
        _, clean = rules.prepare_document(rules.container_spec(container), self.brand_id, doc)
        rules.to_json(clean)
        with _translated(container):
            return _clean(client.upsert_item(body=clean))

    def replace(self, container: str, doc: Document, *, etag: str | None = None) -> Document:
        """Replace an existing document; with an etag, raises EtagMismatch when it changed."""
        client = self._store.container(container)
        _, clean = rules.prepare_document(rules.container_spec(container), self.brand_id, doc)
        rules.to_json(clean)
        with _translated(container):
            return _clean(client.replace_item(item=clean["id"], body=clean, **_if_match(etag)))

    def delete(self, container: str, id: str, *, pk: str | None = None, etag: str | None = None) -> None:
        """Delete one document; raises DocumentNotFound (or EtagMismatch with a stale etag)."""
        client = self._store.container(container)
        part = rules.partition_of(rules.container_spec(container), self.brand_id, pk)
        with _translated(container):
            client.delete_item(item=id, partition_key=part, **_if_match(etag))

    def patch(
        self, container: str, id: str, ops: list[PatchOp], *, pk: str | None = None, etag: str | None = None
    ) -> Document:
        """Apply set / incr / remove operations atomically and return the new document."""
        client = self._store.container(container)
        part = rules.partition_of(rules.container_spec(container), self.brand_id, pk)
        operations = [_patch_operation(op) for op in rules.check_patch_ops(ops)]
        with _translated(container):
            item = client.patch_item(item=id, partition_key=part, patch_operations=operations, **_if_match(etag))
        return _clean(item)

    def write_batch(self, container: str, writes: list[Write]) -> list[Document]:
        """Several writes as one transactional batch of the partition: all of them, or none."""
        client = self._store.container(container)
        part, checked = rules.check_batch(rules.container_spec(container), self.brand_id, writes)
        operations: list[Any] = []
        for write, clean in checked:
            if write.op == "replace":
                condition = {"if_match_etag": write.etag} if write.etag is not None else {}
                operations.append(("replace", (clean["id"], clean), condition))
            else:
                operations.append((write.op, (clean,)))
        with _translated(container):
            try:
                results = client.execute_item_batch(batch_operations=operations, partition_key=part)
            except cosmos_errors.CosmosBatchOperationError as exc:
                raise _batch_error(exc.operation_responses[exc.error_index]["statusCode"], container) from None
        return [_clean(result["resourceBody"]) for result in results]

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
        client = self._store.container(container)
        part = rules.query_partition(spec, self.brand_id, pk)
        order_path = rules.check_order_by(spec, order_by)
        rules.check_page_size(page_size)
        projection = rules.check_fields(fields)
        fingerprint = rules.query_fingerprint(
            self.brand_id, container, pk, order_by, descending, [(f.path, f.op, f.value) for f in filters]
        )
        sql, parameters = self._query_text(spec, part, filters, order_path)
        if continuation is not None:
            sql, parameters = _after(
                sql, parameters, order_path, descending, *rules.decode_continuation(continuation, fingerprint)
            )
        direction = "DESC" if descending else "ASC"
        order = f"{_field(order_path)} {direction}, c.id {direction}" if order_path else f"c.id {direction}"
        parameters.append({"name": "@top", "value": page_size + 1})
        scope: dict[str, Any] = {"enable_cross_partition_query": True} if part is None else {"partition_key": part}
        with _translated(container):
            pages = client.query_items(
                # Only declared names and validated identifier paths are formatted in; values are bound.
                query=f"SELECT TOP @top {_select(projection, order_path)} FROM c WHERE {sql} ORDER BY {order}",  # noqa: S608
                parameters=parameters,
                max_item_count=page_size + 1,
                **scope,
            )
            rows = [_clean(item) for item in islice(pages, page_size + 1)]
        if projection is not None:
            # Aliased columns: `c.a.b` alone would come back as a top-level "b".
            sort_values = [row.get("k") for row in rows]
            rows = [rules.projected(row["id"], row["_etag"], [
                (path, row[f"f{index}"]) for index, path in enumerate(projection) if f"f{index}" in row
            ]) for row in rows]
        if len(rows) <= page_size:
            return Page(rows)
        items = rows[:page_size]
        if projection is not None:
            last_value = sort_values[page_size - 1]
        else:
            last_value = rules.value_at(items[-1], order_path) if order_path else None
        return Page(items, rules.encode_continuation(fingerprint, last_value, items[-1]["id"]))

    def _query_text(
        self,
        spec: ContainerSpec,
        part: str | None,
        filters: list[Filter] | tuple[Filter, ...],
        order_path: str | None,
    ) -> tuple[str, list[dict[str, Any]]]:
        where = ["c.brandId = @brand"]
        parameters: list[dict[str, Any]] = [{"name": "@brand", "value": self.brand_id}]
        if part is not None and spec.partition_key == "pk":
            where.append("c.pk = @pk")
            parameters.append({"name": "@pk", "value": part})
        for index, condition in enumerate(filters):
            kind = rules.check_filter(spec, condition)
            name = f"@v{index}"
            where.append(_filter_sql(condition, kind, name))
            if kind != "null":
                parameters.append({"name": name, "value": condition.value})
        if order_path is not None:
            # Documents without the sort field (or with null) are left out, as in the SQLite adapter.
            field = _field(order_path)
            where.append(f"IS_DEFINED({field}) AND NOT IS_NULL({field})")
        return " AND ".join(where), parameters


def _batch_error(status: int, container: str) -> Exception:
    """The port's error for the operation that failed a transactional batch."""
    if status == 409:
        return DocumentConflict(f"a {container} document with that id exists")
    if status == 404:
        return DocumentNotFound(f"no {container} document with that id")
    if status == 412:
        return EtagMismatch()
    if status in _TRANSIENT_STATUS:
        return TransientError(f"Cosmos DB answered {status}")
    return InvalidInput(f"Cosmos DB refused the {container} batch as a bad request")


def _select(projection: tuple[str, ...] | None, order_path: str | None) -> str:
    """The SELECT list: whole items, or id, _etag, the sort key `k` and each projected path as `f<n>`."""
    if projection is None:
        return "*"
    columns = ["c.id", "c._etag"]
    if order_path is not None:
        columns.append(f"{_field(order_path)} AS k")
    columns += [f"{_field(path)} AS f{index}" for index, path in enumerate(projection)]
    return ", ".join(columns)


def _after(
    sql: str,
    parameters: list[dict[str, Any]],
    order_path: str | None,
    descending: bool,
    last_value: object,
    last_id: str,
) -> tuple[str, list[dict[str, Any]]]:
    """The WHERE clause extended to start right after the previous page's last item."""
    after = "<" if descending else ">"
    parameters = [*parameters, {"name": "@lastId", "value": last_id}]
    if order_path is None:
        return f"{sql} AND c.id {after} @lastId", parameters
    field = _field(order_path)
    parameters.append({"name": "@lastValue", "value": last_value})
    return f"{sql} AND ({field} {after} @lastValue OR ({field} = @lastValue AND c.id {after} @lastId))", parameters


def _if_match(etag: str | None) -> dict[str, Any]:
    if etag is None:
        return {}
    return {"etag": etag, "match_condition": MatchConditions.IfNotModified}


def _patch_operation(op: PatchOp) -> dict[str, Any]:
    operation: dict[str, Any] = {"op": op.op, "path": _index_path(op.path)}
    if op.op != "remove":
        operation["value"] = op.value
    return operation
