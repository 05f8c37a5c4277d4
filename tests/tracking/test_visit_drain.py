"""The redirect's write-behind buffer is drained on every graceful stop: SIGTERM under the host, and under uvicorn.

Each test runs a real process whose buffer would hold a click for a minute (flush every 60 s), clicks
once, stops the process with SIGTERM and then reads the tracking queue on the same data folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx

from popsell.bootstrap import build_container
from shared.config import Settings
from shared.ports.bus import QUEUE_TRACKING_EVENTS
from shared.tracking import click_verdicts
from tests.test_local_runner import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0 Safari/537.36"


def seeded(data_dir: Path) -> str:
    """A brand, a member and a link in `data_dir`; returns the link's code."""
    from bench.bench_redirect import _seed

    container = build_container(Settings(env="local", data_dir=data_dir, demo_brand=False))
    try:
        return _seed(container)
    finally:
        container.close()


def queued_visits(data_dir: Path) -> int:
    container = build_container(Settings(env="local", data_dir=data_dir, demo_brand=False))
    try:
        return len(container.bus.receive(QUEUE_TRACKING_EVENTS, max_messages=100))
    finally:
        container.close()


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "POPSELL_DATA_DIR": str(data_dir), "POPSELL_REDIRECT_FLUSH_MS": "5000",
            "POPSELL_DEMO_BRAND": "false", **extra}


def test_sigterm_under_the_functions_host_sends_the_buffered_clicks_first(tmp_path):
    data_dir = tmp_path / "data"
    code = seeded(data_dir)
    script = textwrap.dedent(f"""
        import os, signal, time
        from tests.http.functions_host import call
        response = call("GET", "/t/{code}", headers={{"User-Agent": "{BROWSER}", "X-Forwarded-For": "203.0.113.5"}})
        assert response.status_code == 302
        from popsell.bootstrap import get_container
        from shared.tracking import redirect
        assert redirect.for_container(get_container()).outbox.pending() == 1
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)
        raise SystemExit("still running after SIGTERM")
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=environment(data_dir),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == -signal.SIGTERM, result.stderr[-2000:]
    assert queued_visits(data_dir) == 1


def test_sigterm_under_uvicorn_sends_the_buffered_clicks_first(tmp_path):
    data_dir = tmp_path / "data"
    code = seeded(data_dir)
    port = free_port()
    # The local runner, without its queue worker's help: the visit must be on the queue when it stops.
    process = subprocess.Popen([sys.executable, "-m", "functions.local_runner"], cwd=ROOT,
                               env=environment(data_dir, PORT=str(port), POPSELL_DEV_ENDPOINTS="false"),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/api/v1/health", deadline=time.monotonic() + 30)
        click = httpx.get(f"{base}/t/{code}", headers={"User-Agent": BROWSER}, follow_redirects=False)
        assert click.status_code == 302
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    counted = queued_visits(data_dir) + len(_seen(data_dir))
    assert counted == 1, output


def _seen(data_dir: Path) -> list[dict]:
    """Visits the runner's own queue worker took off the queue before it stopped (claimed as seen)."""
    container = build_container(Settings(env="local", data_dir=data_dir, demo_brand=False))
    try:
        return container.store.for_brand("bench-brand").query_all(click_verdicts.CONTAINER)
    finally:
        container.close()
