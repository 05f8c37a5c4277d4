"""A full sync run: the platform starts a run, sends its whole catalog in batches, finishes the run.

Finishing retires every active product the run's batches did not mention (a product the platform
no longer sells), and only then: a run that never finishes retires nothing. Each batch records the
ids it mentioned in a document of its own, named by the ids (`<run>:<digest>`), so a batch sent
twice is recorded once and no batch ever writes an unchanged product just to mark it seen (a
repeated sync of an unchanged catalog writes one small document per batch). Finishing again
answers the first finish's report; a finish cut short by a crash is completed by the next one
(retiring is idempotent). Runs and their records expire after RUN_TTL.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any

from shared.catalog import counts, products
from shared.catalog.results import LineResult
from shared.clock import isoformat
from shared.errors import Conflict, NotFound
from shared.events.model import Publisher
from shared.ports.store import BrandStore, DocumentConflict, Filter

RUNS = "catalog_runs"
RUN_TTL = timedelta(days=7)
_PAGE = 500


class RunFinished(Conflict):
    code = "sync-run-finished"
    title = "This sync run is finished; start another one"


class EmptyRun(Conflict):
    code = "sync-run-empty"
    title = "This sync run mentioned no product: finishing it would retire the whole catalog"


def _ttl() -> int:
    return int(RUN_TTL.total_seconds())


def start(*, store: BrandStore, now: datetime) -> dict[str, Any]:
    """A new open run."""
    run_id = uuid.uuid4().hex
    return store.create(RUNS, {"id": run_id, "kind": "run", "runId": run_id, "state": "open",
                               "startedAt": isoformat(now), "finishedAt": None, "report": None, "ttl": _ttl()})


def get(*, store: BrandStore, run_id: str) -> dict[str, Any]:
    """A run of this brand; 404 when unknown (or expired)."""
    run = store.find(RUNS, run_id)
    if run is None or run.get("kind") != "run":
        raise NotFound("Sync run not found")
    return run


def open_run(*, store: BrandStore, run_id: str) -> dict[str, Any]:
    """The run a batch belongs to, still open (409 once finished)."""
    run = get(store=store, run_id=run_id)
    if run["state"] != "open":
        raise RunFinished(f"Sync run {run_id} is finished")
    return run


def mention(*, store: BrandStore, run_id: str, product_ids: list[str]) -> None:
    """Record that a batch of the run named these products (a batch sent twice is recorded once)."""
    if not product_ids:
        return
    ids = sorted(set(product_ids))
    digest = hashlib.sha256("\x1f".join(ids).encode()).hexdigest()[:32]
    try:
        store.create(RUNS, {"id": f"{run_id}:{digest}", "kind": "mention", "runId": run_id, "productIds": ids,
                            "ttl": _ttl()})
    except DocumentConflict:
        pass  # the same batch again: recorded already


def mention_accepted(*, store: BrandStore, run_id: str, results: list[LineResult]) -> None:
    """Record the products a batch of the run applied (a rejected line mentions nothing)."""
    mention(store=store, run_id=run_id,
            product_ids=[result.id for result in results if result.outcome != "rejected" and result.id])


def _mentioned(store: BrandStore, run_id: str) -> set[str]:
    mentioned: set[str] = set()
    continuation = None
    while True:
        page = store.query(RUNS, filters=[Filter("runId", "=", run_id), Filter("kind", "=", "mention")],
                           page_size=100, continuation=continuation)
        for doc in page.items:
            mentioned.update(doc["productIds"])
        continuation = page.continuation
        if continuation is None:
            return mentioned


def finish(*, store: BrandStore, events: Publisher, run_id: str, now: datetime) -> dict[str, Any]:
    """Retire the active products the run did not mention; the run's report (the same on a second finish)."""
    run = get(store=store, run_id=run_id)
    if run["state"] == "finished":
        return run["report"]
    mentioned = _mentioned(store, run_id)
    if not mentioned:
        raise EmptyRun(f"Sync run {run_id} mentioned no product")
    by, retired, continuation = f"sync:{run_id}", 0, None
    while True:
        # Every product, retired ones too: a finish cut short retired some already, and they count.
        page = store.query(products.PRODUCTS, page_size=_PAGE, continuation=continuation,
                           fields=("status", "retiredBy"))
        for doc in page.items:
            if doc["id"] in mentioned or (doc["status"] == "retired" and doc.get("retiredBy") != by):
                continue
            products.retire(store=store, events=events, product_id=doc["id"], by=by, now=now)
            retired += 1
        continuation = page.continuation
        if continuation is None:
            break
    report = {"runId": run_id, "mentioned": len(mentioned), "retired": retired}
    # The whole catalog was just read and settled: the category counts start again from exact figures.
    counts.recount(store=store, now=now)
    store.replace(RUNS, {**run, "state": "finished", "finishedAt": isoformat(now), "report": report})
    return report
