"""The brand's catalog and stores from its platform (signed calls): docs/catalog.md."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel, ConfigDict, Field

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep
from functions.http_api.integration_auth import SignedBrand
from functions.http_api.problems import other_success, problem_responses
from shared.catalog import categories, products, stores, sync_runs
from shared.catalog.models import CATALOG_ID, ProductIn, StoreIn
from shared.catalog.results import LineResult, Outcome
from shared.errors import InvalidInput

router = APIRouter()
_TAGS: list[str | Enum] = ["integrations: catalog"]
BASE = "/api/v1/integrations/{brand_id}"
# One annotation per path parameter (FastAPI binds a parameter object to the first name it serves).
ProductId = Annotated[str, Path(pattern=CATALOG_ID)]
CategoryId = Annotated[str, Path(pattern=CATALOG_ID)]
StoreId = Annotated[str, Path(pattern=CATALOG_ID)]


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class ProductBatch(_Model):
    """Products to create or update, each line on its own; with `runId`, a batch of that full sync run."""

    # Lines are checked one by one (a bad line is rejected with its reason, the others go through).
    products: list[Any] = Field(description=f"at most {products.MAX_BATCH} lines")
    run_id: str | None = Field(None, alias="runId", pattern=r"^[0-9a-f]{32}$")


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


def _batch(results: list[LineResult]) -> BatchRead:
    counts = {outcome: sum(result.outcome == outcome for result in results)
              for outcome in ("created", "updated", "unchanged", "rejected")}
    return BatchRead(results=[LineRead(index=r.index, id=r.id, outcome=r.outcome, errors=r.errors) for r in results],
                     counts=counts)


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
        sync_runs.mention(store=store, run_id=data.run_id,
                          product_ids=[r.id for r in results if r.outcome != "rejected" and r.id])
    return _batch(results)


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
    """Retire the products the run's batches did not mention (409 for a run that mentioned none); again: the same."""
    store = container.store.for_brand(call.brand.id)
    sync_runs.finish(store=store, events=container.events, run_id=run_id, now=container.clock.now())
    return _run(sync_runs.get(store=store, run_id=run_id))


@router.post(f"{BASE}/catalog/categories/batch", tags=_TAGS, response_model=BatchRead,
             responses=problem_responses(401, 422), **access("integration"))
def post_categories(data: CategoryBatch, call: SignedBrand, container: ContainerDep) -> BatchRead:
    """Create, rename, move or reorder categories (parents before children), each line on its own."""
    return _batch(categories.upsert_batch(store=container.store.for_brand(call.brand.id), lines=data.categories,
                                          now=container.clock.now()))


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
