"""Rules every document-store adapter enforces the same way, so SQLite and Cosmos DB agree.

Brand ids, partition values, document shape, dotted paths, filter values, patch operations and
the keyset continuation token live here once; each adapter only translates them to its engine.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, Literal

from shared import json_input
from shared.errors import InvalidInput
from shared.json_input import MalformedJson
from shared.ports.store import Document, Filter, PatchOp, Write
from shared.store_schema import CONTAINERS, ContainerSpec

ValueKind = Literal["text", "number", "bool", "null"]

# Fields Cosmos DB adds to every item; `_etag` alone is kept (optimistic concurrency).
SYSTEM_FIELDS = ("_rid", "_self", "_ts", "_attachments")
# Cosmos DB refuses more in one patch request; the SQLite adapter refuses the same.
MAX_PATCH_OPS = 10
# Fields one projected query may name (each is one expression per row in both engines).
MAX_FIELDS = 16
# Characters Cosmos DB refuses in ids; "|" is also refused in brand ids because it separates
# the brand from the shard in `pk` values ("brandA|x" must never be reachable from "brandA|x|y").
_FORBIDDEN_ID_CHARS = frozenset("/\\?#")
_FORBIDDEN_BRAND_CHARS = _FORBIDDEN_ID_CHARS | {"|"}
_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_OPS = frozenset({"=", "!=", "<", "<=", ">", ">=", "contains", "has"})
# Elements of one multi-document write: Cosmos DB's limit of operations per transactional batch.
MAX_BATCH_WRITES = 100
_IMMUTABLE_FIELDS = frozenset({"id", "brandId", "pk"})


def container_spec(name: str) -> ContainerSpec:
    """The declaration of a container; KeyError naming the declared ones for anything else."""
    spec = CONTAINERS.get(name)
    if spec is None:
        raise KeyError(f"undeclared container {name!r}; declared: {', '.join(sorted(CONTAINERS))}")
    return spec


def check_brand_id(brand_id: str) -> str:
    """A brand id usable as a partition value and as the prefix of `pk` values."""
    if not isinstance(brand_id, str) or not brand_id or _FORBIDDEN_BRAND_CHARS & set(brand_id):
        raise InvalidInput("a brand id is a non-empty string without / \\ ? # |", field="brandId")
    return brand_id


def check_id(doc_id: object) -> str:
    """A document id Cosmos DB accepts: a non-empty string of at most 255 characters."""
    if not isinstance(doc_id, str) or not doc_id or len(doc_id) > 255 or _FORBIDDEN_ID_CHARS & set(doc_id):
        raise InvalidInput("a document id is a non-empty string (max 255) without / \\ ? #", field="id")
    return doc_id


def check_pk(brand_id: str, pk: object) -> str:
    """A `pk` value of this brand: "<brandId>|<shard>"; another brand's pk is refused."""
    if not isinstance(pk, str) or not pk.startswith(f"{brand_id}|") or len(pk) == len(brand_id) + 1:
        raise InvalidInput("pk must be '<brandId>|<shard>' for this brand", field="pk")
    return pk


def partition_of(spec: ContainerSpec, brand_id: str, pk: str | None) -> str:
    """The partition value a point operation addresses (pk is required on `pk` containers)."""
    if spec.partition_key == "pk":
        return check_pk(brand_id, pk)
    if pk is not None and pk != brand_id:
        raise InvalidInput(f"container {spec.name!r} is partitioned by brand; pk must be omitted", field="pk")
    return brand_id


def query_partition(spec: ContainerSpec, brand_id: str, pk: str | None) -> str | None:
    """The one partition a query reads, or None: every partition of this brand (`pk` containers)."""
    if spec.partition_key == "pk" and pk is None:
        return None
    return partition_of(spec, brand_id, pk)


def prepare_document(spec: ContainerSpec, brand_id: str, doc: Document) -> tuple[str, Document]:
    """Validate a document for writing; returns its partition value and a clean copy carrying brandId."""
    if not isinstance(doc, dict):
        raise InvalidInput("a document is a JSON object")
    check_id(doc.get("id"))
    if doc.get("brandId", brand_id) != brand_id:
        raise InvalidInput("the document belongs to another brand", field="brandId")
    clean = {key: value for key, value in doc.items() if key != "_etag" and key not in SYSTEM_FIELDS}
    clean["brandId"] = brand_id
    if spec.partition_key == "pk":
        return check_pk(brand_id, clean.get("pk")), clean
    return brand_id, clean


def expires_at(spec: ContainerSpec, doc: Document, written_at: float) -> float | None:
    """When a document written at `written_at` (epoch seconds) expires, as Cosmos DB counts its ttl.

    Only where the container has ttl on and the document a positive whole `ttl` (seconds after its
    last write); -1, a missing or a non-integer ttl never expires.
    """
    ttl = doc.get("ttl")
    if not spec.ttl_enabled or isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
        return None
    return written_at + ttl


def strip_system_fields(doc: Document) -> Document:
    """A stored item without the engine's bookkeeping fields (keeps `_etag`)."""
    for name in SYSTEM_FIELDS:
        doc.pop(name, None)
    return doc


def to_json(doc: Document) -> str:
    """Compact JSON text of a document; non-JSON values are refused."""
    try:
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"a document holds JSON values only: {exc}") from None


@lru_cache(maxsize=512)
def path_segments(path: str) -> tuple[str, ...]:
    """The segments of a dotted field path ("retention.dueAt"); identifiers only."""
    segments = tuple(path.split(".")) if isinstance(path, str) else ()
    if not segments or not all(_SEGMENT.match(segment) for segment in segments):
        raise InvalidInput(f"invalid field path {path!r}: dotted identifiers only", field="path")
    return segments


def value_at(doc: Document, path: str) -> Any:
    """The value at a dotted path, or None when any part of it is missing."""
    value: Any = doc
    for segment in path_segments(path):
        value = value.get(segment) if isinstance(value, dict) else None
    return value


def check_fields(fields: Iterable[str] | None) -> tuple[str, ...] | None:
    """A projection: distinct dotted paths, none inside another; `id` and `_etag` always come back."""
    if fields is None:
        return None
    if isinstance(fields, str):
        raise InvalidInput("fields is a sequence of dotted paths, not one string", field="fields")
    paths = tuple(dict.fromkeys(path for path in fields if path != "id"))
    if len(paths) > MAX_FIELDS:
        raise InvalidInput(f"a projection names at most {MAX_FIELDS} fields", field="fields")
    for path in paths:
        if path_segments(path)[0].startswith("_"):
            raise InvalidInput(f"{path!r}: system fields cannot be projected", field="fields")
    for path in paths:
        for other in paths:
            if other.startswith(path + "."):
                raise InvalidInput(f"{other!r} lies inside {path!r}: name one of them", field="fields")
    return paths


def projected(doc_id: str, etag: str, values: Iterable[tuple[str, Any]]) -> Document:
    """A projected item: id, the (path, value) pairs nested as in the document, and `_etag`."""
    item: Document = {"id": doc_id}
    for path, value in values:
        *parents, leaf = path_segments(path)
        parent = item
        for segment in parents:
            parent = parent.setdefault(segment, {})
        parent[leaf] = value
    item["_etag"] = etag
    return item


def value_kind(value: object) -> ValueKind:
    """The comparison class of a filter value; objects and arrays are refused."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    raise InvalidInput("filters compare strings, numbers, booleans or None only", field="value")


def check_filter(spec: ContainerSpec, condition: Filter) -> ValueKind:
    """Validate one filter; None only compares with '=' (Cosmos DB: null != x is undefined).

    "contains" needs a declared text path and a non-empty string, "has" a declared array path and a
    string: both are served by an index of their own, never by a scan.
    """
    path_segments(condition.path)
    if condition.op not in _OPS:
        raise InvalidInput(f"unknown filter operator {condition.op!r}", field="op")
    kind = value_kind(condition.value)
    if kind == "null" and condition.op != "=":
        raise InvalidInput("None can only be compared with '='", field="value")
    declared = {"contains": spec.text_paths, "has": spec.array_paths}.get(condition.op)
    if declared is not None:
        if condition.path not in declared:
            raise InvalidInput(f"{condition.op!r} on {spec.name!r} needs one of: {', '.join(declared) or 'none'}",
                               field="path")
        if kind != "text" or (condition.op == "contains" and not condition.value):
            raise InvalidInput(f"{condition.op!r} takes a non-empty string", field="value")
    return kind


def check_batch(
    spec: ContainerSpec, brand_id: str, writes: Iterable[Write]
) -> tuple[str, list[tuple[Write, Document]]]:
    """A transactional batch's partition and its clean documents: 1 to 100 writes, one partition, ids once."""
    writes = list(writes)
    if not 1 <= len(writes) <= MAX_BATCH_WRITES:
        raise InvalidInput(f"a batch holds 1 to {MAX_BATCH_WRITES} writes", field="writes")
    parts, checked = set(), []
    for write in writes:
        if write.op not in ("create", "replace", "upsert"):
            raise InvalidInput(f"unknown write {write.op!r}", field="op")
        part, clean = prepare_document(spec, brand_id, write.doc)
        to_json(clean)
        parts.add(part)
        checked.append((write, clean))
    if len(parts) > 1:
        raise InvalidInput("the writes of one batch share one partition", field="writes")
    if len({clean["id"] for _, clean in checked}) < len(checked):
        raise InvalidInput("a batch writes each id once", field="writes")
    return parts.pop(), checked


def check_order_by(spec: ContainerSpec, order_by: str | None) -> str | None:
    """Sorting needs an index (a composite one on Cosmos DB): only declared paths and "id"."""
    if order_by is None or order_by == "id":
        return None
    if order_by not in spec.indexed_paths:
        raise InvalidInput(
            f"cannot order {spec.name!r} by {order_by!r}; declared: {', '.join(spec.indexed_paths)} or 'id'",
            field="order_by",
        )
    return order_by


def check_page_size(page_size: int) -> int:
    """A page holds 1 to 1000 documents."""
    if not isinstance(page_size, int) or isinstance(page_size, bool) or not 1 <= page_size <= 1000:
        raise InvalidInput("page_size is between 1 and 1000", field="page_size")
    return page_size


def check_patch_ops(ops: Iterable[PatchOp]) -> list[PatchOp]:
    """1 to 10 operations, none touching id, brandId, pk or a system field."""
    ops = list(ops)
    if not 1 <= len(ops) <= MAX_PATCH_OPS:
        raise InvalidInput(f"a patch holds 1 to {MAX_PATCH_OPS} operations", field="ops")
    for op in ops:
        segments = path_segments(op.path)
        if segments[0] in _IMMUTABLE_FIELDS or segments[0].startswith("_"):
            raise InvalidInput(f"{op.path!r} cannot be patched", field="path")
        if op.op == "incr" and value_kind(op.value) != "number":
            raise InvalidInput("incr needs a number", field="value")
        if op.op not in ("set", "incr", "remove"):
            raise InvalidInput(f"unknown patch operation {op.op!r}", field="op")
    return ops


def apply_patch(doc: Document, ops: list[PatchOp]) -> Document:
    """The document after the operations, with Cosmos DB's rules: a parent object must exist.

    Changes `doc` in place (callers pass a freshly parsed document and drop it when an operation
    is refused): no copy on the hot path of counter increments.
    """
    result = doc
    for op in ops:
        *parents, leaf = path_segments(op.path)
        parent = result
        for segment in parents:
            parent = parent.get(segment) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            raise InvalidInput(f"{op.path!r}: the parent object does not exist", field="path")
        _apply_one(parent, leaf, op)
    return result


def _apply_one(parent: dict[str, Any], leaf: str, op: PatchOp) -> None:
    if op.op == "set":
        parent[leaf] = copy.deepcopy(op.value)
    elif op.op == "remove":
        if leaf not in parent:
            raise InvalidInput(f"{op.path!r}: nothing to remove", field="path")
        del parent[leaf]
    else:
        current = parent.get(leaf)
        if current is None and leaf not in parent:
            parent[leaf] = op.value
        elif isinstance(current, int | float) and not isinstance(current, bool):
            parent[leaf] = current + op.value
        else:
            raise InvalidInput(f"{op.path!r}: incr needs a number field", field="path")


def query_fingerprint(*parts: object) -> str:
    """A short digest binding a continuation token to the query (and brand) that issued it."""
    return hashlib.blake2s(repr(parts).encode(), digest_size=6).hexdigest()


def encode_continuation(fingerprint: str, last_value: object, last_id: str) -> str:
    """An opaque keyset token: where the previous page stopped."""
    raw = json.dumps([fingerprint, last_value, last_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_continuation(token: str, fingerprint: str) -> tuple[object, str]:
    """The (last value, last id) of a token this query issued; anything else is refused."""
    try:
        padded = token + "=" * (-len(token) % 4)
        issued_for, last_value, last_id = json_input.parse(base64.urlsafe_b64decode(padded.encode()))
    except (MalformedJson, ValueError, TypeError, binascii.Error):
        raise InvalidInput("malformed continuation token", field="continuation") from None
    if issued_for != fingerprint or not isinstance(last_id, str):
        raise InvalidInput("the continuation token belongs to another query", field="continuation")
    return last_value, last_id
