"""The brand's catalog and stores from its platform (signed calls): docs/catalog.md."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from functions.http_api.access import access, raw_body
from functions.http_api.deps import ContainerDep
from functions.http_api.integration_auth import SignedBrand
from functions.http_api.paging import paging_query
from functions.http_api.problems import other_success, problem_responses
from shared.catalog import categories, products, stores, sync_runs, uploads
from shared.catalog.models import CATALOG_ID, ProductIn, StoreIn
from shared.catalog.results import LineResult, Outcome, count_outcomes
from shared.errors import InvalidInput

router = APIRouter()
_TAGS: list[str | Enum] = ["integrations: catalog"]
BASE = "/api/v1/integrations/{brand_id}"
# One annotation per path parameter (FastAPI binds a parameter object to the first name it serves).
ProductId = Annotated[str, Path(pattern=CATALOG_ID)]
CategoryId = Annotated[str, Path(pattern=CATALOG_ID)]
StoreId = Annotated[str, Path(pattern=CATALOG_ID)]
UploadId = Annotated[str, Path(pattern=uploads.UPLOAD_ID)]
RUN_ID = r"^[0-9a-f]{32}$"
UploadRunId = Annotated[str | None, Query(alias="runId", pattern=RUN_ID,
                                          description="The open full sync run the file belongs to")]
RejectedPaging = paging_query(default=100, largest=uploads.MAX_PAGE_SIZE, longest_token=20)


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class ProductBatch(_Model):
    """Products to create or update, each line on its own; with `runId`, a batch of that full sync run."""

    # Lines are checked one by one (a bad line is rejected with its reason, the others go through).
    products: list[Any] = Field(description=f"at most {products.MAX_BATCH} lines")
    run_id: str | None = Field(None, alias="runId", pattern=RUN_ID)


class CategoryBatch(_Model):
    categories: list[Any] = Field(description=f"at most {categories.MAX_BATCH} lines, parents first")


class StoreBatch(_Model):
    stores: list[Any] = Field(description=f"at most {stores.MAX_BATCH} lines")


class LineRead(_Model):
    index: int
    id: str | None
    outcome: Outcome
    errors: list[dict[str, str]] = Field(default_factory=list)


class BatchRead(_Model):
    """One result per line, in the order sent, and the counts."""

    results: list[LineRead]
    counts: dict[str, int]


class ProductRead(ProductIn):
    """A stored product: what the platform sent, and where it stands in the catalog."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    status: str
    retired_at: str | None = Field(None, alias="retiredAt")
    created_at: str = Field(alias="createdAt")
    updated_at: str = Field(alias="updatedAt")


class CategoryRead(_Model):
    id: str
    name: str
    parent_id: str | None = Field(None, alias="parentId")
    order: int
    path: str
    depth: int
    ancestor_ids: list[str] = Field(alias="ancestorIds")
    translations: dict[str, str] = Field(default_factory=dict)


class CategoryTree(_Model):
    items: list[CategoryRead]


class StoreRead(StoreIn):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    created_at: str = Field(alias="createdAt")
    updated_at: str = Field(alias="updatedAt")


class SyncRunRead(_Model):
    run_id: str = Field(alias="runId")
    state: str
    started_at: str = Field(alias="startedAt")
    finished_at: str | None = Field(None, alias="finishedAt")
    report: dict[str, Any] | None = None


class RejectedLine(_Model):
    """A line of the file that changed nothing: its number (from 1), its id when it had one, why."""

    line: int
    id: str | None
    errors: list[dict[str, str]]


class UploadFailure(_Model):
    code: str
    message: str


class UploadRead(_Model):
    """An upload: where it stands, the counts of the chunks processed so far, a page of its rejected lines."""

    upload_id: str = Field(alias="uploadId")
    status: uploads.UploadStatus
    run_id: str | None = Field(None, alias="runId")
    lines: int = Field(description="Lines in the file (blank ones included; they are skipped)")
    chunks: int = Field(description=f"Chunks of {uploads.CHUNK_LINES} lines the file is applied in")
    chunks_done: int = Field(alias="chunksDone")
    counts: dict[str, int] = Field(description="Lines created, updated, unchanged and rejected so far")
    rejected: list[RejectedLine] = Field(default_factory=list,
                                         description="Rejected lines in line order, a page at a time")
    continuation: str | None = Field(None, description="Token of the next page of rejected lines")
    failure: UploadFailure | None = None
    created_at: str = Field(alias="createdAt")
    started_at: str | None = Field(None, alias="startedAt")
    finished_at: str | None = Field(None, alias="finishedAt")


def _batch(results: list[LineResult]) -> BatchRead:
    return BatchRead(results=[LineRead(index=r.index, id=r.id, outcome=r.outcome, errors=r.errors) for r in results],
                     counts=count_outcomes(results))


def _same_id(body_id: str, path_id: str) -> None:
    if body_id != path_id:
        raise InvalidInput("The body's id is not the path's",
                           errors=[{"field": "id", "message": "must be the path's id"}])


def _created(response: Response, doc: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
    """A single upsert answers 201 when it created the document, 200 otherwise."""
    if outcome == "created":
        response.status_code = status.HTTP_201_CREATED
    return doc


def _run(doc: dict[str, Any]) -> SyncRunRead:
    return SyncRunRead.model_validate(doc | {"runId": doc["id"]})


def _upload(doc: dict[str, Any], rejected: list[dict[str, Any]] | None = None,
            continuation: str | None = None) -> UploadRead:
    return UploadRead.model_validate(doc | {"uploadId": doc["id"], "chunksDone": doc["nextChunk"],
                                            "rejected": rejected or [], "continuation": continuation})


@router.post(f"{BASE}/catalog/products/batch", tags=_TAGS, response_model=BatchRead,
             responses=problem_responses(401, 404, 409, 422), **access("integration"))
def post_products(data: ProductBatch, call: SignedBrand, container: ContainerDep) -> BatchRead:
    """Create or update products by the brand's id, each line on its own: created, updated, unchanged or rejected.

    With `runId` (an open run: 404 unknown, 409 finished), the batch belongs to that full sync run.
    More than the limit: 422 and nothing applied.
    """
    store = container.store.for_brand(call.brand.id)
    if data.run_id is not None:
        sync_runs.open_run(store=store, run_id=data.run_id)
    results = products.upsert_batch(store=store, lines=data.products, now=container.clock.now())
    if data.run_id is not None:
        sync_runs.mention_accepted(store=store, run_id=data.run_id, results=results)
    return _batch(results)


@router.post(f"{BASE}/catalog/uploads", tags=_TAGS, response_model=UploadRead, status_code=status.HTTP_202_ACCEPTED,
             responses=problem_responses(401, 404, 409, 413, 415, 422),
             **raw_body(access("integration"), uploads.MEDIA_TYPES, max_bytes=uploads.MAX_UPLOAD_BYTES))
async def upload_products(request: Request, call: SignedBrand, container: ContainerDep, response: Response,
                          run_id: UploadRunId = None) -> UploadRead:
    """Upload a catalog as a JSON Lines file (one product per line), applied in the background; 202 and its upload.

    `application/x-ndjson` or `application/jsonl` (415 otherwise), at most 50 MB and 100,000 lines (413),
    not empty and UTF-8 (422). With `runId` (an open run: 404 unknown, 409 finished) the file belongs to
    that full sync run. `Location` names the upload: read it until its status is `done` (or `failed`).
    """
    data = await request.body()  # read, and kept, by the signature check
    doc = await run_in_threadpool(
        uploads.accept, store=container.store.for_brand(call.brand.id), blobs=container.blobs, bus=container.bus,
        data=data, content_type=request.headers.get("content-type"), run_id=run_id, now=container.clock.now())
    response.headers["Location"] = f"/api/v1/integrations/{call.brand.id}/catalog/uploads/{doc['id']}"
    return _upload(doc)


@router.get(f"{BASE}/catalog/uploads/{{upload_id}}", tags=_TAGS, response_model=UploadRead,
            responses=problem_responses(401, 404, 422), **access("integration"))
def get_upload(call: SignedBrand, container: ContainerDep, upload_id: UploadId, paging: RejectedPaging) -> UploadRead:
    """An upload's status (queued, processing, done, failed), its counts, and its rejected lines a page at a time."""
    store = container.store.for_brand(call.brand.id)
    doc = uploads.get(store=store, upload_id=upload_id)
    rejected, continuation = uploads.rejected_page(store=store, upload=doc, page_size=paging.page_size,
                                                   continuation=paging.continuation)
    return _upload(doc, rejected, continuation)


@router.put(f"{BASE}/catalog/products/{{product_id}}", tags=_TAGS, response_model=ProductRead,
            responses={**problem_responses(401, 422), **other_success(201, ProductRead, "The product was created")},
            **access("integration"))
def put_product(data: ProductIn, call: SignedBrand, container: ContainerDep, response: Response,
                product_id: ProductId) -> ProductRead:
    """Create (201) or update (200) one product, as a platform's webhook pushes it (the body's id is the path's)."""
    _same_id(data.id, product_id)
    return ProductRead.model_validate(_created(response, *products.upsert_one(
        store=container.store.for_brand(call.brand.id), data=data, now=container.clock.now())))


@router.get(f"{BASE}/catalog/products/{{product_id}}", tags=_TAGS, response_model=ProductRead,
            responses=problem_responses(401, 404), **access("integration"))
def get_product(call: SignedBrand, container: ContainerDep, product_id: ProductId) -> ProductRead:
    """One product as stored, retired ones included."""
    return ProductRead.model_validate(products.get(store=container.store.for_brand(call.brand.id),
                                                   product_id=product_id))


@router.delete(f"{BASE}/catalog/products/{{product_id}}", tags=_TAGS, status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(401, 404), **access("integration"))
def delete_product(call: SignedBrand, container: ContainerDep, product_id: ProductId) -> Response:
    """Retire a product: out of the catalog and the members' lists; orders keep what they said (again: 204)."""
    products.retire(store=container.store.for_brand(call.brand.id), events=container.events,
                    product_id=product_id, by="delete", now=container.clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(f"{BASE}/catalog/sync-runs", tags=_TAGS, response_model=SyncRunRead, status_code=status.HTTP_201_CREATED,
             responses=problem_responses(401), **access("integration"))
def start_sync_run(call: SignedBrand, container: ContainerDep) -> SyncRunRead:
    """Start a full sync run: send the whole catalog in batches with its `runId`, then finish it."""
    return _run(sync_runs.start(store=container.store.for_brand(call.brand.id), now=container.clock.now()))


@router.get(f"{BASE}/catalog/sync-runs/{{run_id}}", tags=_TAGS, response_model=SyncRunRead,
            responses=problem_responses(401, 404), **access("integration"))
def get_sync_run(run_id: str, call: SignedBrand, container: ContainerDep) -> SyncRunRead:
    """A run and, once finished, its report."""
    return _run(sync_runs.get(store=container.store.for_brand(call.brand.id), run_id=run_id))


@router.post(f"{BASE}/catalog/sync-runs/{{run_id}}/finish", tags=_TAGS, response_model=SyncRunRead,
             responses=problem_responses(401, 404, 409), **access("integration"))
def finish_sync_run(run_id: str, call: SignedBrand, container: ContainerDep) -> SyncRunRead:
    """Retire the products the run's batches did not mention (409 for a run that mentioned none, or whose
    uploads are not all done); again: the same."""
    store = container.store.for_brand(call.brand.id)
    uploads.check_run_settled(store=store, run_id=run_id)
    sync_runs.finish(store=store, events=container.events, run_id=run_id, now=container.clock.now())
    return _run(sync_runs.get(store=store, run_id=run_id))


@router.post(f"{BASE}/catalog/categories/batch", tags=_TAGS, response_model=BatchRead,
             responses=problem_responses(401, 422), **access("integration"))
def post_categories(data: CategoryBatch, call: SignedBrand, container: ContainerDep) -> BatchRead:
    """Create, rename, move or reorder categories (parents before children), each line on its own."""
    return _batch(categories.upsert_batch(store=container.store.for_brand(call.brand.id), events=container.events,
                                          lines=data.categories, now=container.clock.now()))


@router.get(f"{BASE}/catalog/categories", tags=_TAGS, response_model=CategoryTree,
            responses=problem_responses(401), **access("integration"))
def get_categories(call: SignedBrand, container: ContainerDep) -> CategoryTree:
    """The whole tree, depth-first in the brand's order, each node with its path."""
    return CategoryTree(items=[CategoryRead.model_validate(node)
                               for node in categories.tree(store=container.store.for_brand(call.brand.id))])


@router.delete(f"{BASE}/catalog/categories/{{category_id}}", tags=_TAGS, status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(401, 404, 409), **access("integration"))
def delete_category(call: SignedBrand, container: ContainerDep, category_id: CategoryId) -> Response:
    """Remove a category without children (409 while it has some)."""
    categories.delete(store=container.store.for_brand(call.brand.id), category_id=category_id,
                      now=container.clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(f"{BASE}/stores/batch", tags=_TAGS, response_model=BatchRead,
             responses=problem_responses(401, 422), **access("integration"))
def post_stores(data: StoreBatch, call: SignedBrand, container: ContainerDep) -> BatchRead:
    """Create or update the brand's stores, each line on its own."""
    return _batch(stores.upsert_batch(store=container.store.for_brand(call.brand.id), lines=data.stores,
                                      now=container.clock.now()))


@router.put(f"{BASE}/stores/{{store_id}}", tags=_TAGS, response_model=StoreRead,
            responses={**problem_responses(401, 422), **other_success(201, StoreRead, "The store was created")},
            **access("integration"))
def put_store(data: StoreIn, call: SignedBrand, container: ContainerDep, response: Response,
              store_id: StoreId) -> StoreRead:
    """Create (201) or update (200) one store (the body's id is the path's)."""
    _same_id(data.id, store_id)
    return StoreRead.model_validate(_created(response, *stores.upsert_one(
        store=container.store.for_brand(call.brand.id), data=data, now=container.clock.now())))


@router.delete(f"{BASE}/stores/{{store_id}}", tags=_TAGS, status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(401, 404), **access("integration"))
def delete_store(call: SignedBrand, container: ContainerDep, store_id: StoreId) -> Response:
    """Remove a store (members naming it as their home shop keep the id)."""
    stores.delete(store=container.store.for_brand(call.brand.id), store_id=store_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
