"""Cold start: wall time of importing our Functions app against importing the frameworks alone.

Target: our code adds less than the frameworks do (our import - frameworks' < frameworks').
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7


def _median_seconds(code: str) -> float:
    timings = []
    with tempfile.TemporaryDirectory() as data_dir:
        env = {"PATH": "/usr/bin:/bin", "POPSELL_DATA_DIR": data_dir, "PYTHONDONTWRITEBYTECODE": "0"}
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)  # warm the bytecode cache
        for _ in range(RUNS):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
            timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def run() -> list[str]:
    """Print the medians of RUNS fresh interpreters each."""
    bare = _median_seconds("pass")
    frameworks = _median_seconds("import fastapi, azure.functions")
    ours = _median_seconds("import function_app")
    framework_cost = frameworks - bare
    our_cost = ours - frameworks
    verdict = "OK" if our_cost < framework_cost else "OVER TARGET"
    return [
        f"cold start (median of {RUNS}): python alone {bare * 1000:.0f} ms, "
        f"import fastapi+azure.functions {frameworks * 1000:.0f} ms, import function_app {ours * 1000:.0f} ms",
        f"cold start: frameworks add {framework_cost * 1000:.0f} ms, our code adds {our_cost * 1000:.0f} ms "
        f"({our_cost / framework_cost:.2f}x the frameworks; target < 1x) {verdict}",
    ]


if __name__ == "__main__":
    print("\n".join(run()))
