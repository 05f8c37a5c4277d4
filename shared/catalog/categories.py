"""The brand's category tree: any depth, stable ids, a path like "Women > Bags > Totes", an order.

The whole tree is one document (`catalog_trees`, id "categories"): a brand's tree is small (at most
MAX_CATEGORIES nodes, well under a store document's 2 MB), and one document makes every change
atomic. A batch that moves a node re-paths its whole subtree in the same write, and two batches at
once cannot interleave (the write is etag-guarded; the loser applies its lines to the new tree).

Lines apply in order, each to the tree as the earlier lines left it: a parent comes before its
children. A line is rejected when its parent is unknown or when it would put a node under its own
descendant; the other lines go through.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from shared.catalog import events as catalog_events
from shared.catalog.models import CategoryIn
from shared.catalog.results import LineResult, check_size, line_id, validation_errors
from shared.clock import isoformat
from shared.errors import Conflict, NotFound
from shared.events.model import Publisher
from shared.ports.store import BrandStore, DocumentConflict, EtagMismatch
from shared.ports.store_retry import retrying

TREES = "catalog_trees"
TREE_ID = "categories"
MAX_CATEGORIES = 5000
MAX_BATCH = 500
MAX_DEPTH = 20
SEPARATOR = " > "
_ATTEMPTS = 5


def _nodes(doc: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return {node["id"]: node for node in (doc or {}).get("nodes", [])}


def nodes(*, store: BrandStore) -> dict[str, dict[str, Any]]:
    """The brand's categories by id, as stored (id, name, parentId, order)."""
    return _nodes(store.find(TREES, TREE_ID))


def _ancestors(nodes: dict[str, dict[str, Any]], node_id: str) -> list[str]:
    """The ids from the root down to the node's parent."""
    chain, parent = [], nodes[node_id].get("parentId")
    while parent is not None:
        chain.append(parent)
        parent = nodes[parent].get("parentId")
    return list(reversed(chain))


def tree(*, store: BrandStore) -> list[dict[str, Any]]:
    """Every category with its path, depth and ancestors, depth-first in the brand's order."""
    nodes = _nodes(store.find(TREES, TREE_ID))
    children: dict[str | None, list[dict[str, Any]]] = {}
    for node in nodes.values():
        children.setdefault(node.get("parentId"), []).append(node)
    ordered: list[dict[str, Any]] = []

    def walk(parent: str | None, names: list[str], ancestor_ids: list[str]) -> None:
        for node in sorted(children.get(parent, []), key=lambda item: (item["order"], item["name"], item["id"])):
            path = [*names, node["name"]]
            ordered.append({**node, "path": SEPARATOR.join(path), "depth": len(path) - 1,
                            "ancestorIds": ancestor_ids})
            walk(node["id"], path, [*ancestor_ids, node["id"]])

    walk(None, [], [])
    return ordered


def _apply(nodes: dict[str, dict[str, Any]], line: CategoryIn) -> str | None:
    """Apply one line to the tree in memory; why it cannot be applied, or None."""
    if line.parent_id is not None:
        if line.parent_id not in nodes:
            return f"unknown parent {line.parent_id!r} (send a parent before its children)"
        if line.id in nodes and (line.parent_id == line.id or line.id in _ancestors(nodes, line.parent_id)):
            return "a category cannot move under its own descendant"
        if len(_ancestors(nodes, line.parent_id)) + 1 >= MAX_DEPTH:
            return f"at most {MAX_DEPTH} levels"
    if line.id not in nodes and len(nodes) >= MAX_CATEGORIES:
        return f"at most {MAX_CATEGORIES} categories per brand"
    nodes[line.id] = line.model_dump(mode="json", by_alias=True)
    return None


def _save(store: BrandStore, doc: dict[str, Any] | None, nodes: dict[str, dict[str, Any]], now: datetime) -> None:
    body = {"id": TREE_ID, "nodes": list(nodes.values()), "updatedAt": isoformat(now)}
    if doc is None:
        try:
            store.create(TREES, body)
        except DocumentConflict:
            raise EtagMismatch("created meanwhile") from None
    else:
        store.replace(TREES, body, etag=doc["_etag"])


def upsert_batch(*, store: BrandStore, events: Publisher, lines: list[Any], now: datetime) -> list[LineResult]:
    """Create, rename, move or reorder categories; one result per line, in order (one write for the batch)."""
    check_size(lines, limit=MAX_BATCH, field="categories", what="categories")
    parsed: list[CategoryIn | LineResult] = []
    for index, line in enumerate(lines):
        try:
            parsed.append(CategoryIn.model_validate(line))
        except ValidationError as exc:
            parsed.append(LineResult(index, line_id(line), "rejected", validation_errors(exc)))

    def attempt() -> tuple[list[LineResult], list[str]]:
        doc = store.find(TREES, TREE_ID)
        nodes = _nodes(doc)
        before = {key: dict(value) for key, value in nodes.items()}
        results = []
        for index, item in enumerate(parsed):
            if isinstance(item, LineResult):
                results.append(item)
                continue
            existed = before.get(item.id)
            why = _apply(nodes, item)
            if why is not None:
                results.append(LineResult(index, item.id, "rejected", [{"field": "parentId", "message": why}]))
            elif existed is None:
                results.append(LineResult(index, item.id, "created"))
            else:
                results.append(LineResult(index, item.id, "unchanged" if nodes[item.id] == existed else "updated"))
        if nodes != before:
            _save(store, doc, nodes, now)
        return results, _moved(before, nodes)

    results, moved = retrying(attempt, attempts=_ATTEMPTS)
    if moved:
        events.publish(catalog_events.moved(store.brand_id, moved, at=now))
    return results


def _moved(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> list[str]:
    """The categories that took another parent (their products show under other ancestors now)."""
    return sorted(node_id for node_id, node in after.items()
                  if node_id in before and before[node_id].get("parentId") != node.get("parentId"))


def delete(*, store: BrandStore, category_id: str, now: datetime) -> None:
    """Remove a category without children (409 while it has some); products naming it no longer show under it."""

    def attempt() -> None:
        doc = store.find(TREES, TREE_ID)
        nodes = _nodes(doc)
        if category_id not in nodes:
            raise NotFound("Category not found")
        if any(node.get("parentId") == category_id for node in nodes.values()):
            raise Conflict("This category has children: move or delete them first")
        del nodes[category_id]
        _save(store, doc, nodes, now)

    retrying(attempt, attempts=_ATTEMPTS)
