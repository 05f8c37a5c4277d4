"""`make run`'s process: serves health and OpenAPI, creates the demo brand, stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, deadline: float) -> httpx.Response:
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_local_runner_serves_the_api_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    env = {**os.environ, "PORT": str(port), "POPSELL_DATA_DIR": str(tmp_path / "data")}
    process = subprocess.Popen([sys.executable, "-m", "functions.local_runner"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        health = wait_for(f"{base}/api/v1/health", time.monotonic() + 30)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert httpx.get(f"{base}/api/openapi.json").json()["info"]["title"] == "Popsell Functions API"
        assert httpx.get(f"{base}/api/v1/widget/demo/config").json()["brandId"] == "demo"
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert f"http://127.0.0.1:{port}/api/v1/health" in output
    assert "demo brand 'demo' created" in output
    assert output.rstrip().endswith("stopped")
