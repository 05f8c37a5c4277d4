"""Cold start: wall time of importing our Functions app against importing the frameworks alone.

Target: our code adds less than the frameworks do (our import - frameworks' < frameworks').
Importing the app builds the redirect and health only (each audience's routers come with its first
request: that first request is timed too, as is an import without any bytecode, which is what a
read-only package without the compiled files shipped by scripts/compile_bytecode.py would cost).
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


def _median_seconds(code: str, *, bytecode: bool = True) -> float:
    timings = []
    with tempfile.TemporaryDirectory() as data_dir, tempfile.TemporaryDirectory() as no_cache:
        env = {"PATH": "/usr/bin:/bin", "POPSELL_DATA_DIR": data_dir, "PYTHONDONTWRITEBYTECODE": "0"}
        if not bytecode:  # an empty cache that is never written: every module compiles at each start
            env |= {"PYTHONPYCACHEPREFIX": no_cache, "PYTHONDONTWRITEBYTECODE": "1"}
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, stderr=subprocess.DEVNULL)  # warm
        for _ in range(RUNS):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, stderr=subprocess.DEVNULL)
            timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def run() -> list[str]:
    """Print the medians of RUNS fresh interpreters each."""
    bare = _median_seconds("pass")
    frameworks = _median_seconds("import fastapi, azure.functions")
    ours = _median_seconds("import function_app")
    first_calls = _median_seconds(_FIRST_CALLS)
    no_bytecode = _median_seconds("import function_app", bytecode=False)
    framework_cost = frameworks - bare
    our_cost = ours - frameworks
    verdict = "OK" if our_cost < framework_cost else "OVER TARGET"
    return [
        f"cold start (median of {RUNS}): python alone {bare * 1000:.0f} ms, "
        f"import fastapi+azure.functions {frameworks * 1000:.0f} ms, import function_app {ours * 1000:.0f} ms",
        f"cold start: frameworks add {framework_cost * 1000:.0f} ms, our code adds {our_cost * 1000:.0f} ms "
        f"({our_cost / framework_cost:.2f}x the frameworks; target < 1x) {verdict}",
        f"import function_app without any bytecode (a read-only package shipped without it): "
        f"{no_bytecode * 1000:.0f} ms",
        f"import + the first request of each audience (app, widget, Manager, integrations, webhooks) through the "
        f"Functions entry point: {first_calls * 1000:.0f} ms",
    ]


# Through the real entry point: the HTTP function with azure.functions requests, one per audience.
_FIRST_CALLS = """
import asyncio, azure.functions as func, function_app
function_app.app.functions_bindings = None
handler = next(f for f in function_app.app.get_functions() if f.get_function_name() == "http_app_func")
for path in ("/api/v1/app/b/me", "/api/v1/widget/b/config", "/api/v1/manager/brands", "/api/v1/integrations/b/orders",
             "/api/v1/webhooks/mailjet"):
    request = func.HttpRequest(method="GET", url="http://localhost" + path, headers={}, body=b"")
    asyncio.run(handler.get_user_function()(request, None))
"""


if __name__ == "__main__":
    print("\n".join(run()))
