"""Timing one operation many times, and the line a bench prints for it (figures next to their target)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def timed(operation: Callable[[int], object], *, runs: int, warmup: int = 10) -> tuple[float, float]:
    """The median and p95 in ms of `runs` calls of `operation(index)`, after `warmup` calls (statement caches)."""
    for index in range(warmup):
        operation(index)
    samples = []
    for index in range(runs):
        began = time.perf_counter()
        operation(index)
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def latency_line(label: str, median: float, p95: float, target_ms: float, width: int = 40) -> str:
    """ "<label>  median x ms   p95 y ms   (target ≤ t ms)   ok|over t ms"."""
    verdict = "ok" if p95 <= target_ms else f"over {target_ms:.0f} ms"
    return (f"{label:<{width}} median {median:6.2f} ms   p95 {p95:6.2f} ms   (target ≤ {target_ms:.0f} ms)   "
            f"{verdict}")
