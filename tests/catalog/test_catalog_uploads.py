"""A catalog as one JSON Lines file: accepted at once (202), applied in the background through the
`catalog-uploads` queue in chunks of batch size, line by line as a batch would be; idempotent on
redelivery, resumed after a crash from the last chunk recorded, and part of a full sync run if asked."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from functions.queues.catalog_uploads import catalog_uploads_queue
from popsell.registry import queue_handlers
from shared.adapters.servicebus_bus import to_servicebus_message
from shared.catalog import products, uploads
from shared.integrations.signing import signed_headers
from shared.messaging import worker
from shared.ports.blobs import CONTAINER_CATALOG_UPLOADS
from shared.ports.bus import QUEUE_CATALOG_UPLOADS, OutgoingMessage
from shared.ports.store import Filter
from tests.catalog.test_catalog_sync import CATALOG, batch, product, stored
from tests.sales.shop import BRAND, OTHER
from tests.test_servicebus_mapping import received_by_trigger

UPLOADS = f"{CATALOG}/uploads"


def jsonl(*lines) -> bytes:
    return "".join(f"{line if isinstance(line, str) else json.dumps(line)}\n" for line in lines).encode()


def post(shop, data: bytes, *, content_type="application/x-ndjson", brand=BRAND, run_id=None, headers=None):
    path = f"/api/v1/integrations/{brand}/catalog/uploads" + (f"?runId={run_id}" if run_id else "")
    shop.container.clock.advance(timedelta(seconds=1))
    key = shop.keys[brand]
    signed = signed_headers(kid=key.kid, secret=key.secret, method="POST", path=path, body=data, now=shop.now())
    return shop.client.post(path, content=data, headers={**signed, "Content-Type": content_type, **(headers or {})})


def upload(shop, data: bytes, brand=BRAND, **options) -> dict:
    answer = post(shop, data, brand=brand, **options)
    assert answer.status_code == 202, answer.text
    assert answer.headers["location"] == f"/api/v1/integrations/{brand}/catalog/uploads/{answer.json()['uploadId']}"
    return answer.json()


def status(shop, upload_id, brand=BRAND, **params):
    query = "&".join(f"{name}={value}" for name, value in params.items())
    return shop.call("GET", f"/api/v1/integrations/{brand}/catalog/uploads/{upload_id}" + (f"?{query}" if query
                                                                                           else ""), brand)


def read(shop, upload_id, **params) -> dict:
    answer = status(shop, upload_id, **params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def deliver(shop) -> list[str]:
    """Deliver every due `catalog-uploads` message once, as the local worker does; the settlements."""
    handler = queue_handlers(shop.container)[QUEUE_CATALOG_UPLOADS]
    return [worker.handle(shop.container.bus, QUEUE_CATALOG_UPLOADS, handler, message)
            for message in shop.container.bus.receive(QUEUE_CATALOG_UPLOADS)]


def drain(shop) -> None:
    while deliver(shop):
        pass


def records(shop, brand=BRAND) -> dict[str, str]:
    """Every upload and chunk record, by id, with its etag (what a write would change)."""
    return {doc["id"]: doc["_etag"] for doc in shop.store(brand).query_all(uploads.UPLOADS)}


def product_etags(shop) -> dict[str, str]:
    return {doc["id"]: doc["_etag"] for doc in shop.store().query_all(products.PRODUCTS)}


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of two lines, legs of two chunks: the chunk and leg mechanics on a few lines."""
    monkeypatch.setattr(uploads, "CHUNK_LINES", 2)
    monkeypatch.setattr(uploads, "CHUNKS_PER_LEG", 2)


def test_a_file_is_accepted_at_once_then_applied_line_by_line_with_the_batch_outcomes(shop):
    batch(shop, [product("p-old", title="Old title"), product("p-same")])
    data = jsonl(product("p-1"), "{not json", product("p-old", title="New title"), "",
                 product("p-bad", price={"amountMinor": -1, "currency": "EUR"}), product("p-same"), "[1, 2]")
    accepted = upload(shop, data)
    assert (accepted["status"], accepted["lines"], accepted["chunks"], accepted["chunksDone"]) == ("queued", 7, 1, 0)
    assert shop.store().find(products.PRODUCTS, "p-1") is None  # nothing applied yet: the queue does it

    drain(shop)
    done = read(shop, accepted["uploadId"])
    assert done["status"] == "done" and done["chunksDone"] == 1 and done["finishedAt"]
    assert done["counts"] == {"created": 1, "updated": 1, "unchanged": 1, "rejected": 3}
    assert [(line["line"], line["id"], [error["field"] for error in line["errors"]]) for line in done["rejected"]] == [
        (2, None, ["line"]), (5, "p-bad", ["price.amountMinor"]), (7, None, ["body"])]
    assert done["rejected"][0]["errors"][0]["message"] == "not valid JSON"
    assert stored(shop, "p-old")["title"] == "New title" and stored(shop, "p-1")["status"] == "active"
    assert shop.container.blobs.list(CONTAINER_CATALOG_UPLOADS) == []  # the file goes once applied

    again = upload(shop, jsonl(product("p-1"), product("p-old", title="New title")))
    drain(shop)
    assert read(shop, again["uploadId"])["counts"] == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 0}


def test_a_file_larger_than_a_batch_is_applied_in_chunks_of_batch_size(shop):
    lines = [product(f"p-{number:04d}") for number in range(products.MAX_BATCH * 2 + 1)]
    lines[products.MAX_BATCH] = product("p-0000")  # line 501 repeats line 1, in the next chunk
    accepted = upload(shop, jsonl(*lines))
    assert accepted["chunks"] == 3
    drain(shop)
    done = read(shop, accepted["uploadId"])
    # Each chunk is the batch of its lines: line 501 updates nothing it did not say already.
    assert done["counts"] == {"created": 1000, "updated": 0, "unchanged": 1, "rejected": 0}
    assert len(shop.store().query_all(products.PRODUCTS)) == 1000


def test_each_message_applies_a_leg_of_chunks_then_hands_the_rest_to_the_next(shop, small_chunks):
    accepted = upload(shop, jsonl(*[product(f"p-{number}") for number in range(9)]))
    assert accepted["chunks"] == 5
    assert deliver(shop) == ["completed"]
    halfway = read(shop, accepted["uploadId"])
    assert (halfway["status"], halfway["chunksDone"], halfway["counts"]["created"]) == ("processing", 2, 4)
    [next_leg] = shop.container.bus.receive(QUEUE_CATALOG_UPLOADS)
    assert next_leg.body["fromChunk"] == 2
    shop.container.bus.abandon(QUEUE_CATALOG_UPLOADS, next_leg)
    drain(shop)
    done = read(shop, accepted["uploadId"])
    assert (done["status"], done["chunksDone"], done["counts"]["created"]) == ("done", 5, 9)


def test_a_message_delivered_again_changes_nothing(shop, small_chunks):
    accepted = upload(shop, jsonl(*[product(f"p-{number}") for number in range(5)]))
    handler = queue_handlers(shop.container)[QUEUE_CATALOG_UPLOADS]
    [first] = shop.container.bus.receive(QUEUE_CATALOG_UPLOADS)
    handler(first)
    shop.container.bus.complete(QUEUE_CATALOG_UPLOADS, first)
    before, before_products = records(shop), product_etags(shop)
    handler(first)  # the first leg's message again, after it handed on
    assert records(shop) == before and product_etags(shop) == before_products
    [second] = shop.container.bus.receive(QUEUE_CATALOG_UPLOADS)  # its successor, once: the resend was a duplicate
    handler(second)
    shop.container.bus.complete(QUEUE_CATALOG_UPLOADS, second)
    done, done_products = records(shop), product_etags(shop)
    assert read(shop, accepted["uploadId"])["status"] == "done"
    for message in (first, second):  # either message again, once the upload is done
        handler(message)
        assert records(shop) == done and product_etags(shop) == done_products
    assert shop.container.bus.receive(QUEUE_CATALOG_UPLOADS) == []


def test_a_crash_between_chunks_resumes_from_the_last_chunk_recorded(shop, small_chunks, monkeypatch):
    monkeypatch.setattr(uploads, "CHUNKS_PER_LEG", 10)
    accepted = upload(shop, jsonl(*[product(f"p-{number}") for number in range(6)], "oops"))
    applied = []
    real = products.upsert_batch

    def crashing(*, store, lines, now):
        if len(applied) == 2:
            raise RuntimeError("killed")  # after chunks 0 and 1 were recorded, before chunk 2 writes anything
        applied.append([line["id"] for line in lines])
        return real(store=store, lines=lines, now=now)

    monkeypatch.setattr(products, "upsert_batch", crashing)
    assert deliver(shop) == ["abandoned"]
    cut = read(shop, accepted["uploadId"])
    assert (cut["status"], cut["chunksDone"], cut["counts"]["created"]) == ("processing", 2, 4)
    earlier = {doc_id: etag for doc_id, etag in records(shop).items() if doc_id != accepted["uploadId"]}

    monkeypatch.setattr(products, "upsert_batch", lambda **call: applied.append(
        [line["id"] for line in call["lines"]]) or real(**call))
    assert deliver(shop) == ["completed"]  # the same message, delivered again
    assert applied == [["p-0", "p-1"], ["p-2", "p-3"], ["p-4", "p-5"]]  # chunk 2 once, chunks 0-1 never again
    assert all(records(shop)[doc_id] == etag for doc_id, etag in earlier.items())  # their records untouched
    done = read(shop, accepted["uploadId"])
    assert done["status"] == "done" and done["counts"] == {"created": 6, "updated": 0, "unchanged": 0,
                                                           "rejected": 1}
    assert [line["line"] for line in done["rejected"]] == [7]


def test_a_crash_after_a_chunk_is_recorded_but_before_it_is_counted_counts_it_once(shop, small_chunks,
                                                                                   monkeypatch):
    accepted = upload(shop, jsonl(*[product(f"p-{number}") for number in range(5)]))  # chunks 0-1, then 2
    real_count, calls = uploads._count, []

    def crash_once(store, upload_id, record, now):
        calls.append(record["chunk"])
        if calls == [0, 1]:
            raise RuntimeError("killed")
        return real_count(store, upload_id, record, now)

    monkeypatch.setattr(uploads, "_count", crash_once)
    assert deliver(shop) == ["abandoned"]
    applied = []
    real = products.upsert_batch
    monkeypatch.setattr(products, "upsert_batch", lambda **call: applied.append(len(call["lines"])) or real(**call))
    drain(shop)
    assert applied == [1]  # chunk 1's record stood (counted, not applied again); then the next leg's chunk 2
    assert read(shop, accepted["uploadId"])["counts"] == {"created": 5, "updated": 0, "unchanged": 0, "rejected": 0}


def test_the_functions_trigger_applies_the_upload_its_message_names(shop):
    accepted = upload(shop, jsonl(product("p-1"), product("p-2")))
    [message] = shop.container.bus.receive(QUEUE_CATALOG_UPLOADS)
    sdk = to_servicebus_message(OutgoingMessage(body=message.body, message_id=message.message_id))
    catalog_uploads_queue(received_by_trigger(sdk, delivery_count=1))
    assert read(shop, accepted["uploadId"])["counts"]["created"] == 2
    catalog_uploads_queue(received_by_trigger(sdk, delivery_count=2))  # delivered again: nothing more
    assert read(shop, accepted["uploadId"])["counts"]["created"] == 2


def test_an_upload_that_never_succeeds_is_marked_failed_on_its_last_delivery(shop, monkeypatch):
    accepted = upload(shop, jsonl(product("p-1")))

    def broken(**_call):
        raise RuntimeError("the store is down")

    monkeypatch.setattr(products, "upsert_batch", broken)
    settlements = []
    while outcome := deliver(shop):
        settlements += outcome
        last = len(settlements) == shop.container.settings.max_delivery_count
        assert read(shop, accepted["uploadId"])["status"] == ("failed" if last else "processing")
    assert len(settlements) == shop.container.settings.max_delivery_count
    failed = read(shop, accepted["uploadId"])
    assert failed["failure"]["code"] == "processing-failed" and "store is down" not in str(failed)
    assert len(shop.container.bus.dead_letters(QUEUE_CATALOG_UPLOADS)) == 1


def test_rejected_lines_are_paged_in_line_order_across_chunks(shop, small_chunks):
    bad = product("p-bad", availability="sold")
    accepted = upload(shop, jsonl(bad, product("p-1"), "{", "{", product("p-2"), "x", bad))
    drain(shop)
    pages, continuation = [], None
    while True:
        page = read(shop, accepted["uploadId"], pageSize=2, **({"continuation": continuation} if continuation else {}))
        pages.append([line["line"] for line in page["rejected"]])
        continuation = page["continuation"]
        if continuation is None:
            break
    assert pages == [[1, 3], [4, 6], [7]]
    assert read(shop, accepted["uploadId"])["counts"]["rejected"] == 5
    wrong = status(shop, accepted["uploadId"], continuation="nonsense")
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "continuation"


@pytest.mark.parametrize(("data", "content_type", "expected", "field"), [
    (b"", "application/x-ndjson", 422, "body"),
    (b"\n\n  \n", "application/jsonl", 422, "body"),
    (b"\xff\xfe{}\n", "application/x-ndjson", 422, "body"),
    (b'{"id": "p-1"}\n', "application/json", 415, None),
    (b'{"id": "p-1"}\n', "text/plain", 415, None),
])
def test_a_bad_file_is_refused_at_the_door_and_nothing_is_queued(shop, data, content_type, expected, field):
    answer = post(shop, data, content_type=content_type)
    assert answer.status_code == expected, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    if field:
        assert answer.json()["errors"][0]["field"] == field
    assert shop.container.bus.receive(QUEUE_CATALOG_UPLOADS) == []
    assert shop.store().query_all(uploads.UPLOADS) == []


def test_a_file_over_the_limits_is_413(shop, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_UPLOAD_LINES", 2)
    lines = post(shop, jsonl(product("p-1"), product("p-2"), product("p-3")))
    assert lines.status_code == 413 and lines.json()["maxLines"] == 2
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 100)
    size = post(shop, jsonl(product("p-1")))
    assert size.status_code == 413 and size.json()["maxBytes"] == 100
    # A body declaring more than the route takes is refused before anything reads it, the signature included.
    declared = shop.client.post(UPLOADS, content=b"{}", headers={"Content-Type": "application/x-ndjson",
                                                                 "Content-Length": str(60 * 1024 * 1024)})
    assert declared.status_code == 413 and declared.json()["type"].endswith("/payload-too-large")


def test_another_brands_upload_is_not_found(shop):
    theirs = upload(shop, jsonl(product("p-1")), brand=OTHER)
    assert status(shop, theirs["uploadId"]).status_code == 404
    assert status(shop, "0" * 32).status_code == 404
    assert status(shop, "not-an-id").status_code == 422
    assert status(shop, theirs["uploadId"], brand=OTHER).status_code == 200


def test_a_full_sync_run_by_file_retires_what_the_file_does_not_name_once_the_upload_is_done(shop):
    batch(shop, [product("p-gone"), product("p-1")])
    run_id = shop.call("POST", f"{CATALOG}/sync-runs").json()["runId"]
    accepted = upload(shop, jsonl(product("p-1"), product("p-2"), "{"), run_id=run_id)
    assert accepted["runId"] == run_id
    early = shop.call("POST", f"{CATALOG}/sync-runs/{run_id}/finish")
    assert early.status_code == 409 and early.json()["type"].endswith("/sync-run-uploading")
    assert stored(shop, "p-gone")["status"] == "active"
    drain(shop)
    finished = shop.call("POST", f"{CATALOG}/sync-runs/{run_id}/finish")
    assert finished.status_code == 200 and finished.json()["report"] == {"runId": run_id, "mentioned": 2,
                                                                          "retired": 1}
    assert stored(shop, "p-gone")["status"] == "retired" and stored(shop, "p-2")["status"] == "active"
    assert post(shop, jsonl(product("p-3")), run_id=run_id).status_code == 409  # the run is finished
    assert post(shop, jsonl(product("p-3")), run_id="f" * 32).status_code == 404


def test_an_upload_and_its_records_expire_after_seven_days(shop):
    accepted = upload(shop, jsonl(product("p-1"), "{"))
    drain(shop)
    shop.container.clock.advance(uploads.UPLOAD_TTL + timedelta(seconds=1))
    shop.container.store.purge_expired()
    assert status(shop, accepted["uploadId"]).status_code == 404
    assert shop.store().query_all(uploads.UPLOADS, filters=[Filter("kind", "=", "chunk")]) == []
    assert stored(shop, "p-1")["status"] == "active"  # the products stay, of course
