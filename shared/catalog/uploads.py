"""A catalog sent as one JSON Lines file, applied in the background through the `catalog-uploads` queue.

The platform posts the file (one product object per line); it is checked at the door (type, size,
line count, UTF-8, not empty), stored in the private `catalog-uploads` blob container, recorded as
an upload (`queued`) and announced on the queue. The queue handler applies it in chunks of
CHUNK_LINES lines (the file's lines 1-500, 501-1000, ...) through `products.upsert_batch`, so each
line comes out as it would in a batch of the same lines: created, updated, unchanged, or rejected
with its fields; a line that is not JSON is a rejected line with its number, never a failed file.

Idempotent and resumable:
- each chunk's outcome is written once, as its own record (`<upload>:<chunk>`, `create` being the
  idempotency primitive), before the upload counts it and moves `nextChunk` on (etag-guarded, only
  from that chunk to the next); a chunk already recorded is never applied again;
- so a delivery that stops anywhere (a crash, a lost lock) is resumed by the next one from the first
  chunk not recorded, and a message delivered again after the upload is done changes nothing;
- one message applies at most CHUNKS_PER_LEG chunks (10,000 lines: well within the host's lock
  renewal and time limits), then records the next leg and sends its message (message id
  `catalog-upload:<upload>:<first chunk>`: the bus drops a second send). A message of a leg already
  handed on sends that leg's message again (in case the crash came between the two) and stops.

With a `runId` the upload belongs to that full sync run: each chunk mentions the products it
applied, as a batch of the run does, and the run cannot be finished until the upload is `done`.
An upload and its records expire UPLOAD_TTL after their last change; the file is deleted once done.
"""

from __future__ import annotations

import contextlib
import logging
import re
import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared import json_input
from shared.catalog import products, sync_runs
from shared.catalog.results import OUTCOMES, count_outcomes
from shared.clock import isoformat
from shared.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge, UnsupportedMediaType
from shared.json_input import MalformedJson
from shared.ports.blobs import CONTAINER_CATALOG_UPLOADS, BlobNotFound, BlobStore
from shared.ports.bus import QUEUE_CATALOG_UPLOADS, MessageBus, OutgoingMessage, ReceivedMessage
from shared.ports.platform import Platform
from shared.ports.store import BrandStore, DocumentConflict, Filter
from shared.ports.store_retry import update_document

UPLOADS = "catalog_uploads"
UPLOAD_TTL = timedelta(days=7)
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_UPLOAD_LINES = 100_000
MEDIA_TYPES = ("application/x-ndjson", "application/jsonl")
CHUNK_LINES = products.MAX_BATCH
CHUNKS_PER_LEG = 20
# A rejected line keeps at most this many broken rules (a chunk's record stays far below Cosmos DB's 2 MB).
MAX_ERRORS_PER_LINE = 10
MAX_PAGE_SIZE = 500
UPLOAD_ID = r"^[0-9a-f]{32}$"
_TOKEN = re.compile(r"^(\d{1,6})\.(\d{1,4})$")
_ATTEMPTS = 5

UploadStatus = Literal["queued", "processing", "done", "failed"]
FINISHED = ("done", "failed")
log = logging.getLogger(__name__)


class RunUploading(Conflict):
    code = "sync-run-uploading"
    title = "An upload of this sync run is not done; finish the run once its uploads are"


def _ttl() -> int:
    return int(UPLOAD_TTL.total_seconds())


def line_count(data: bytes) -> int:
    """The file's lines: blank ones count, a final newline does not end one more."""
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def check_file(data: bytes, content_type: str | None) -> int:
    """The number of lines of an acceptable file; 415, 413 or 422 naming what is wrong with it."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media not in MEDIA_TYPES:
        raise UnsupportedMediaType("A catalog upload is JSON Lines: application/x-ndjson or application/jsonl",
                                   allowed=list(MEDIA_TYPES))
    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"A catalog upload is at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; send several",
                              maxBytes=MAX_UPLOAD_BYTES)
    lines = line_count(data)
    if lines > MAX_UPLOAD_LINES:
        raise PayloadTooLarge(f"A catalog upload is at most {MAX_UPLOAD_LINES:,} lines; send several",
                              maxLines=MAX_UPLOAD_LINES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("The file is not UTF-8 text",
                           errors=[{"field": "body", "message": "JSON Lines are UTF-8 text"}]) from None
    if not text.strip():
        raise InvalidInput("The file holds no line", errors=[{"field": "body", "message": "no product line"}])
    return lines


def _message(brand_id: str, upload_id: str, from_chunk: int) -> OutgoingMessage:
    return OutgoingMessage(body={"brandId": brand_id, "uploadId": upload_id, "fromChunk": from_chunk},
                           message_id=f"catalog-upload:{upload_id}:{from_chunk}", subject="catalog-upload")


def accept(*, store: BrandStore, blobs: BlobStore, bus: MessageBus, data: bytes, content_type: str | None,
           run_id: str | None, now: datetime) -> dict[str, Any]:
    """Check the file, keep it, record the upload (`queued`) and queue its processing; the upload."""
    lines = check_file(data, content_type)
    if run_id is not None:
        sync_runs.open_run(store=store, run_id=run_id)  # 404 unknown, 409 finished
    upload_id = uuid.uuid4().hex
    blob = f"{store.brand_id}/{upload_id}.jsonl"
    blobs.put(CONTAINER_CATALOG_UPLOADS, blob, data, content_type=MEDIA_TYPES[0])
    doc = store.create(UPLOADS, {
        "id": upload_id, "kind": "upload", "uploadId": upload_id, "runId": run_id, "status": "queued",
        "blob": blob, "bytes": len(data), "lines": lines, "chunks": -(-lines // CHUNK_LINES), "nextChunk": 0,
        "leg": 0, "counts": dict.fromkeys(OUTCOMES, 0), "rejectedChunks": [], "failure": None,
        "createdAt": isoformat(now), "startedAt": None, "finishedAt": None, "updatedAt": isoformat(now),
        "ttl": _ttl()})
    try:
        bus.send(QUEUE_CATALOG_UPLOADS, [_message(store.brand_id, upload_id, 0)])
    except Exception:
        # Never a `queued` upload no message will pick up (it would hold its run open): failed, and the call fails.
        _finish(store, upload_id, now, failure={"code": "not-queued", "message": "the upload could not be queued"})
        raise
    log.info("catalog upload %s of brand %s queued: %d lines", upload_id, store.brand_id, lines)
    return doc


def get(*, store: BrandStore, upload_id: str) -> dict[str, Any]:
    """An upload of this brand; 404 when unknown, another brand's or expired."""
    doc = store.find(UPLOADS, upload_id)
    if doc is None or doc.get("kind") != "upload":
        raise NotFound("Upload not found")
    return doc


def rejected_page(*, store: BrandStore, upload: dict[str, Any], page_size: int,
                  continuation: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """The rejected lines of the chunks processed so far, in line order, a page at a time.

    The token names a chunk and a place in its rejected lines, so it stays good while the upload goes on.
    """
    start_chunk, offset = 0, 0
    if continuation is not None:
        found = _TOKEN.match(continuation)
        if found is None:
            raise InvalidInput("Invalid continuation token",
                               errors=[{"field": "continuation", "message": "not a token of this list"}])
        start_chunk, offset = int(found.group(1)), int(found.group(2))
    items: list[dict[str, Any]] = []
    for chunk in (chunk for chunk in upload["rejectedChunks"] if chunk >= start_chunk):
        rejected = store.get(UPLOADS, _chunk_id(upload["id"], chunk))["rejected"]
        begin = offset if chunk == start_chunk else 0
        room = page_size - len(items)
        items += rejected[begin:begin + room]
        if begin + room < len(rejected):
            return items, f"{chunk}.{begin + room}"
        if len(items) == page_size:
            later = [other for other in upload["rejectedChunks"] if other > chunk]
            return items, (f"{later[0]}.0" if later else None)
    return items, None


def check_run_settled(*, store: BrandStore, run_id: str) -> None:
    """Refuse (409) to finish a run while one of its uploads is not done: it would retire what the file names."""
    pending = [doc["id"] for doc in store.query_all(UPLOADS, filters=[Filter("runId", "=", run_id),
                                                                      Filter("kind", "=", "upload")])
               if doc["status"] != "done"]
    if pending:
        raise RunUploading(f"Sync run {run_id} has an upload that is not done", uploadIds=sorted(pending))


# --- queue side ------------------------------------------------------------------------------------


class UploadMessage(BaseModel):
    """A `catalog-uploads` message: apply the upload's chunks from `fromChunk` (one leg)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    brand_id: str = Field(alias="brandId", min_length=1, max_length=40)
    upload_id: str = Field(alias="uploadId", pattern=UPLOAD_ID)
    from_chunk: int = Field(alias="fromChunk", ge=0)


def catalog_upload_handler(platform: Platform, message: ReceivedMessage) -> None:
    """The handler both the Service Bus trigger and the local worker call.

    A failure raises (the bus delivers the message again); on the last delivery the bus allows, the
    upload is marked `failed` first, so the platform sees it did not complete.
    """
    order = UploadMessage.model_validate(message.body)
    store = platform.store.for_brand(order.brand_id)
    try:
        process(store=store, blobs=platform.blobs, bus=platform.bus, upload_id=order.upload_id,
                from_chunk=order.from_chunk, now=platform.clock.now())
    except Exception as exc:
        if message.delivery_count >= platform.settings.max_delivery_count:
            with contextlib.suppress(NotFound):
                failed = _finish(store, order.upload_id, platform.clock.now(), failure={
                    "code": "processing-failed", "message": f"the file could not be processed ({type(exc).__name__})"})
                platform.blobs.delete(CONTAINER_CATALOG_UPLOADS, failed["blob"])
        raise


def process(*, store: BrandStore, blobs: BlobStore, bus: MessageBus, upload_id: str, from_chunk: int,
            now: datetime) -> dict[str, Any] | None:
    """Apply one leg of an upload (resuming at its first chunk not recorded); the upload as it then stands."""
    upload = store.find(UPLOADS, upload_id)
    if upload is None or upload.get("kind") != "upload" or upload["status"] in FINISHED:
        return upload  # expired, or finished already: a message delivered again changes nothing
    if from_chunk != upload["leg"]:
        # A leg handed on already: its successor's message may have been lost with a crash; send it again.
        bus.send(QUEUE_CATALOG_UPLOADS, [_message(store.brand_id, upload_id, upload["leg"])])
        return upload
    try:
        data = blobs.get(CONTAINER_CATALOG_UPLOADS, upload["blob"])
    except BlobNotFound:
        return _finish(store, upload_id, now, failure={"code": "file-missing", "message": "the file is gone"})
    lines = data.split(b"\n")
    upload = _started(store, upload_id, now)
    end = min(upload["chunks"], from_chunk + CHUNKS_PER_LEG)
    for chunk in range(upload["nextChunk"], end):
        recorded = store.find(UPLOADS, _chunk_id(upload_id, chunk)) or _apply_chunk(
            store, upload, chunk, lines[chunk * CHUNK_LINES:(chunk + 1) * CHUNK_LINES], now)
        upload = _count(store, upload_id, recorded, now)
    if upload["nextChunk"] >= upload["chunks"]:
        done = _finish(store, upload_id, now)
        blobs.delete(CONTAINER_CATALOG_UPLOADS, upload["blob"])
        log.info("catalog upload %s of brand %s done: %s", upload_id, store.brand_id, done["counts"])
        return done
    upload = _hand_on(store, upload_id, from_chunk, upload["nextChunk"], now)
    bus.send(QUEUE_CATALOG_UPLOADS, [_message(store.brand_id, upload_id, upload["leg"])])
    return upload


def _chunk_id(upload_id: str, chunk: int) -> str:
    return f"{upload_id}:{chunk:05d}"


def _apply_chunk(store: BrandStore, upload: dict[str, Any], chunk: int, raw_lines: list[bytes],
                 now: datetime) -> dict[str, Any]:
    """Apply one chunk's lines and record what each did (once: a record already there stands)."""
    parsed: list[tuple[int, Any]] = []
    rejected: list[dict[str, Any]] = []
    for number, raw in enumerate(raw_lines, start=chunk * CHUNK_LINES + 1):
        if not raw.strip():
            continue  # a blank line is no product
        try:
            parsed.append((number, json_input.parse(raw)))
        except MalformedJson:
            rejected.append({"line": number, "id": None, "errors": [{"field": "line", "message": "not valid JSON"}]})
    results = products.upsert_batch(store=store, lines=[value for _, value in parsed], now=now) if parsed else []
    if upload.get("runId"):
        sync_runs.mention_accepted(store=store, run_id=upload["runId"], results=results)
    counts = count_outcomes(results)
    counts["rejected"] += len(rejected)
    rejected += [{"line": number, "id": result.id, "errors": result.errors[:MAX_ERRORS_PER_LINE]}
                 for (number, _), result in zip(parsed, results, strict=True) if result.outcome == "rejected"]
    record = {"id": _chunk_id(upload["id"], chunk), "kind": "chunk", "uploadId": upload["id"], "chunk": chunk,
              "counts": counts, "rejected": sorted(rejected, key=lambda line: line["line"]), "ttl": _ttl()}
    try:
        return store.create(UPLOADS, record)
    except DocumentConflict:
        return store.get(UPLOADS, record["id"])  # a racing delivery recorded it first: its record stands


def _update(store: BrandStore, upload_id: str, change) -> dict[str, Any]:  # noqa: ANN001 - doc -> doc | None
    def guarded(current: dict[str, Any] | None) -> dict[str, Any] | None:
        if current is None:
            raise NotFound("Upload not found")  # expired under a delivery: nothing left to record
        return change(current)

    written = update_document(store, UPLOADS, upload_id, guarded, attempts=_ATTEMPTS)
    return written[1] if written is not None else store.get(UPLOADS, upload_id)


def _started(store: BrandStore, upload_id: str, now: datetime) -> dict[str, Any]:
    return _update(store, upload_id, lambda doc: None if doc["status"] != "queued" else {
        **doc, "status": "processing", "startedAt": isoformat(now), "updatedAt": isoformat(now)})


def _count(store: BrandStore, upload_id: str, record: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Add a recorded chunk to the upload's counts and move on to the next chunk (once per chunk)."""
    chunk = record["chunk"]

    def change(doc: dict[str, Any]) -> dict[str, Any] | None:
        if doc["nextChunk"] != chunk:
            return None  # counted already
        return {**doc, "nextChunk": chunk + 1, "updatedAt": isoformat(now),
                "counts": {outcome: doc["counts"][outcome] + record["counts"][outcome] for outcome in OUTCOMES},
                "rejectedChunks": doc["rejectedChunks"] + ([chunk] if record["rejected"] else [])}

    return _update(store, upload_id, change)


def _hand_on(store: BrandStore, upload_id: str, leg: int, next_leg: int, now: datetime) -> dict[str, Any]:
    return _update(store, upload_id, lambda doc: None if doc["leg"] != leg else {
        **doc, "leg": next_leg, "updatedAt": isoformat(now)})


def _finish(store: BrandStore, upload_id: str, now: datetime, *,
            failure: dict[str, str] | None = None) -> dict[str, Any]:
    status = "failed" if failure else "done"
    return _update(store, upload_id, lambda doc: None if doc["status"] in FINISHED else {
        **doc, "status": status, "failure": failure, "finishedAt": isoformat(now), "updatedAt": isoformat(now)})
