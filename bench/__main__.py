"""`make bench`: every benchmark, figures printed (never asserted in tests)."""

from __future__ import annotations

import importlib

BENCHMARKS = (
    "bench.bench_store",
    "bench.bench_cold_start",
    "bench.bench_queue",
    "bench.bench_login",
    "bench.bench_directory",
    "bench.bench_retention",
    "bench.bench_campaign",
    "bench.bench_redirect",
    "bench.bench_tracking",
    "bench.bench_dashboard",
    "bench.bench_backup",
    "bench.bench_catalog",
    "bench.bench_catalog_search",
    "bench.bench_conversations",
    "bench.bench_realtime",
    "bench.bench_conversation_metrics",
)


def main() -> None:
    for name in BENCHMARKS:
        print(f"== {name}", flush=True)
        for line in importlib.import_module(name).run():
            print(line, flush=True)


if __name__ == "__main__":
    main()
