"""Catalog search and browse on the embedded SQLite store: 100,000 products of one brand (target p95 ≤ 20 ms).

Products are synced through the service (batches of 500, a 3-level tree of 60 categories), with
titles drawn from a small vocabulary so common words match thousands of products and rare ones a
few. Each query kind is timed through the same service the App and widget routes call (first page
of 20, then the third page where it applies).

Run: .venv/bin/python -m bench.bench_catalog_search
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.timing import latency_line, timed
from shared.adapters.sqlite_store import SqliteDocumentStore
from shared.catalog import categories, products, search

PRODUCTS = int(__import__("os").environ.get("BENCH_PRODUCTS", "100000"))
BRAND = "bench-brand"
NOW = datetime(2030, 1, 1, 9, tzinfo=UTC)
RUNS = 200
TARGET_MS = 20.0
NOUNS = ["sac", "cabas", "pochette", "ceinture", "écharpe", "bottine", "sandale", "veste", "chemise", "robe"]
ADJECTIVES = ["cuir", "toile", "daim", "lin", "soie", "laine", "coton", "velours", "verni", "tressé"]
COLOURS = ["noir", "camel", "rouge", "bleu", "vert", "écru", "rose", "gris", "or", "argent"]


class _NoEvents:
    def publish(self, *events: object) -> None:
        """The bench has no handlers to run."""


def _tree() -> list[dict]:
    nodes = []
    for top in range(4):
        nodes.append({"id": f"c{top}", "name": f"Univers {top}"})
        for middle in range(4):
            nodes.append({"id": f"c{top}{middle}", "name": f"Rayon {top}{middle}", "parentId": f"c{top}"})
            for leaf in range(3):
                nodes.append({"id": f"c{top}{middle}{leaf}", "name": f"Famille {top}{middle}{leaf}",
                              "parentId": f"c{top}{middle}"})
    return nodes


def _line(rng: random.Random, index: int) -> dict:
    title = f"{rng.choice(NOUNS).capitalize()} {rng.choice(ADJECTIVES)} {rng.choice(COLOURS)} {index}"
    price = rng.randint(500, 50_000)
    line = {"id": f"sku-{index:06d}", "title": title, "link": f"https://shop.example/p/{index}",
            "imageLink": f"https://cdn.example/{index}.jpg", "brand": rng.choice(["Acme", "Maison", "Atelier"]),
            "availability": rng.choice(["in_stock"] * 6 + ["out_of_stock", "preorder", "backorder"]),
            "price": {"amountMinor": price, "currency": "EUR"},
            "categoryIds": [f"c{rng.randrange(4)}{rng.randrange(4)}{rng.randrange(3)}"]}
    if rng.random() < 0.2:
        line["salePrice"] = {"amountMinor": price * 7 // 10, "currency": "EUR"}
    return line


def _third_page(store, **params: object) -> None:
    continuation = None
    for _ in range(3):
        _, continuation = search.search(store=store, query=search.make_query(**params, continuation=continuation))
        if continuation is None:
            return


def run() -> list[str]:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="bench-catalog-search-") as name:
        database = SqliteDocumentStore(Path(name) / "store.sqlite3")
        database.ensure_schema()
        store = database.for_brand(BRAND)
        started = time.perf_counter()
        categories.upsert_batch(store=store, events=_NoEvents(), lines=_tree(), now=NOW)
        for start in range(0, PRODUCTS, products.MAX_BATCH):
            products.upsert_batch(store=store, now=NOW, lines=[
                _line(rng, index) for index in range(start, min(start + products.MAX_BATCH, PRODUCTS))])
        load_seconds = time.perf_counter() - started

        def first(**params: object) -> Callable[[int], object]:
            return lambda _: search.search(store=store, query=search.make_query(**params))

        kinds: list[tuple[str, Callable[[int], object]]] = [
            ("browse, by title", first()),
            ("browse, by price", first(sort="price")),
            ("browse, by price, third page", lambda _: _third_page(store, sort="price")),
            ("top category, by title", lambda i: first(category_id=f"c{i % 4}")(i)),
            ("leaf category, by price descending", lambda i: first(category_id=f"c{i % 4}{i % 3}{i % 3}",
                                                                   sort="-price")(i)),
            ("availability filter (preorder)", first(availability="preorder")),
            ("price range 10-20 EUR, by price", first(currency="EUR", min_price=1000, max_price=2000, sort="price")),
            ("narrow price range + category", lambda i: first(category_id=f"c{i % 4}", currency="EUR",
                                                              min_price=10_000, max_price=10_500)(i)),
            ("text, common word (relevance)", lambda i: first(text=NOUNS[i % len(NOUNS)])(i)),
            ("text, common word, third page", lambda i: _third_page(store, text=ADJECTIVES[i % len(ADJECTIVES)])),
            ("text, common word, by price", lambda i: first(text=COLOURS[i % len(COLOURS)], sort="price")(i)),
            ("text, rare (one product)", lambda i: first(text=f"{(i * 7919) % PRODUCTS} ")(i)),
            ("text, no match", first(text="introuvable")),
            ("text + category", lambda i: first(text=NOUNS[i % len(NOUNS)], category_id=f"c{i % 4}{i % 4}")(i)),
            ("text + top category, by price", lambda i: first(text=COLOURS[i % len(COLOURS)], category_id=f"c{i % 4}",
                                                              sort="price")(i)),
            ("text, common word, by title", lambda i: first(text=ADJECTIVES[i % len(ADJECTIVES)], sort="title")(i)),
            ("text, two letters (title starts)", lambda i: first(text=NOUNS[i % len(NOUNS)][:2])(i)),
            ("text, exact GTIN-like code (sku id)", lambda i: first(text=f"sku-{(i * 31) % PRODUCTS:06d}")(i)),
            ("category tree with counts", lambda _: search.browse_tree(store=store)),
        ]
        lines = [f"Catalog search and browse on SQLite ({PRODUCTS:,} products of one brand, "
                 f"loaded in {load_seconds:.0f} s; page of 20)"]
        for label, operation in kinds:
            lines.append(latency_line(label, *timed(operation, runs=RUNS), TARGET_MS, width=40))
        database.close()
    return lines


if __name__ == "__main__":
    for line in run():
        print(line)
