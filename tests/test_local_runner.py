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


def _banner(process: subprocess.Popen) -> list[str]:
    """The lines the runner printed at start, up to the operator token (its last one)."""
    lines = []
    for line in process.stdout:
        lines.append(line.rstrip())
        if line.strip().startswith("eyJ"):
            return lines
    raise AssertionError("no operator token printed:\n" + "\n".join(lines))


def test_a_local_run_on_another_port_links_to_that_port_and_its_webhook_has_a_password(tmp_path):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("POPSELL_")}
    env |= {"PORT": str(port), "POPSELL_DATA_DIR": str(tmp_path / "data")}
    process = subprocess.Popen([sys.executable, "-m", "functions.local_runner"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        banner = _banner(process)
        printed = {"Authorization": f"Bearer {banner[-1].strip()}"}
        wait_for(f"{base}/api/v1/health", time.monotonic() + 30)
        signup = httpx.post(f"{base}/api/v1/app/demo/auth/signup", json={
            "email": "newcomer@example.com", "password": "a long local password", "firstName": "New",
            "lastName": "Comer", "acceptTerms": True, "termsVersion": "2030-01"})
        assert signup.status_code == 202, signup.text
        deadline = time.monotonic() + 15
        while not (outbox := httpx.get(f"{base}/api/v1/dev/outbox").json()) and time.monotonic() < deadline:
            time.sleep(0.2)
        email = httpx.get(f"{base}/api/v1/dev/outbox/{outbox[0]['messageId']}").json()
        assert f"{base}/app/demo/verify-email#token=" in email["text"]  # the port it runs on, not 7071

        password = "local-only-mailjet-webhook-password"
        assert any(f"{base}/api/v1/webhooks/mailjet" in line and password in line for line in banner)
        hook = httpx.post(f"{base}/api/v1/webhooks/mailjet", json=[], auth=("mailjet", password))
        assert hook.status_code == 200, hook.text

        managers = f"{base}/api/v1/manager/brands"
        assert httpx.get(managers, headers=printed).status_code == 200
        httpx.post(f"{base}/api/v1/dev/clock/advance", json={"days": 2})
        assert httpx.get(managers, headers=printed).status_code == 401  # a day of the dev clock has passed
        fresh = httpx.post(f"{base}/api/v1/dev/operator-token").json()["token"]
        assert httpx.get(managers, headers={"Authorization": f"Bearer {fresh}"}).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
    assert any(f"POST {base}/api/v1/dev/operator-token" in line for line in banner)
