"""A real kill: `make run`'s server is killed -9 during a burst of orders, restarted, and every order re-posted once.

The server is `functions.local_runner` in a child process on a data folder seeded here (a brand
with a 10 % commission, an active member, a link and its signed reference). Orders are sent 8 at
a time; the child is killed when a random number of them have answered, with others in flight.
After the restart every order is posted again once, and the orders, their ledger entries and the
brand dashboard's orders and sales must all be the number posted, whatever step the kill cut.
A call killed while it held an order's ledger mark (`ledgerLock`) leaves a mark that only a later
caller may take over as stale: the re-post of that order answers 503 with a Retry-After, and the
platform (this test) posts it again once that time has passed on the server's dev clock.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from shared.integrations.signing import signed_headers

ORDERS, AT_ONCE, AMOUNT = 300, 8, 10000
BRAND = "kill-brand"
ROOT = Path(__file__).resolve().parents[2]


def _settings(data_dir: Path):
    from shared.config import Settings

    return Settings(env="local", data_dir=data_dir, demo_brand=False)


def _seed(data_dir: Path) -> dict:
    """Brand, member, link, a manager viewer; what the platform and the test need to call the server."""
    from popsell.bootstrap import build_container
    from shared.brands import service as brands
    from shared.brands.models import BrandCreate
    from shared.identity import repository
    from shared.identity.models import ManagerUser, Member, Role
    from shared.store_schema import PLATFORM_SCOPE
    from shared.tracking import links, reference

    container = build_container(_settings(data_dir))
    now = container.clock.now()
    brand, key = brands.create(store=container.store, clock=container.clock, data=BrandCreate.model_validate(
        {"id": BRAND, "name": "Kill", "allowedDomains": ["kill.example"], "homeUrl": "https://kill.example",
         "commissionRules": [{"kind": "percentage", "ratePercent": 10}]}))
    store = container.store.for_brand(BRAND)
    member = Member(id="m1", role=Role.AMBASSADOR, status="active", created_at=now, first_name="Ana",
                    email="m1@example.com")
    repository.save(store=store, container=repository.MEMBERS, model=member, etag=None)
    link = links.create(store=store, platform=container.store.for_brand(PLATFORM_SCOPE), brand=brand, member=member,
                        now=now, app_base_url="https://app.example", data=links.LinkCreate.model_validate(
                            {"source": "facebook", "target": {"kind": "product", "url": "https://kill.example/p"}}))
    viewer = ManagerUser(id="mu-viewer", level="viewer", status="active", email="viewer@example.com",
                         email_hash=container.hasher(BRAND)("email", "viewer@example.com"), created_at=now)
    repository.save(store=store, container=repository.MANAGER_USERS, model=viewer, etag=None)
    token = container.tokens.issue(subject=viewer.id, audience="manager", brand_id=BRAND, level="viewer", now=now,
                                   ttl=timedelta(hours=1))
    ref = reference.sign(container.settings.hash_master_key, BRAND, code=link.code, click_id="click00001",
                         clicked_at=now - timedelta(minutes=1))
    container.close()
    return {"kid": key.kid, "secret": key.secret, "ref": ref, "token": token}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(data_dir: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "POPSELL_ENV": "local", "POPSELL_DATA_DIR": str(data_dir), "POPSELL_DEMO_BRAND": "false",
           "POPSELL_LOG_LEVEL": "WARNING", "PORT": str(port)}
    child = subprocess.Popen([sys.executable, "-m", "functions.local_runner"], cwd=ROOT, env=env,  # noqa: S603
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return child
        except httpx.HTTPError:
            time.sleep(0.05)
    child.kill()
    raise RuntimeError("the server did not start")


def _bodies() -> list[dict]:
    placed = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [{"orderId": f"k-{n:04d}", "channel": "online", "placedAt": placed, "currency": "EUR",
             "amountMinor": AMOUNT, "lines": [{"sku": "S1", "quantity": 1, "amountMinor": AMOUNT}]}
            for n in range(ORDERS)]


def _post_all(client: httpx.Client, seed: dict, bodies: list[dict], offset: timedelta, *, stop_after: int | None = None,
              child: subprocess.Popen | None = None) -> list[int | None]:
    """Post every order, AT_ONCE at a time, signed at the server's time; kill -9 the child after `stop_after`."""
    path = f"/api/v1/integrations/{BRAND}/orders"
    answered: list[int | None] = []

    def post(body: dict) -> int | None:
        raw = json.dumps(body | {"attributionRef": seed["ref"]}).encode()
        headers = signed_headers(kid=seed["kid"], secret=seed["secret"], method="POST", path=path, body=raw,
                                 now=datetime.now(UTC) + offset) | {"Content-Type": "application/json"}
        try:
            status = client.post(path, content=raw, headers=headers).status_code
        except httpx.HTTPError:
            status = None  # the server died under this call
        answered.append(status)
        if stop_after is not None and len(answered) == stop_after and child is not None:
            os.kill(child.pid, signal.SIGKILL)
        return status

    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        return list(pool.map(post, bodies))


def _count_stored(data_dir: Path) -> tuple[int, int]:
    from popsell.bootstrap import build_container

    container = build_container(_settings(data_dir))
    store = container.store.for_brand(BRAND)
    orders = store.query_all("orders", fields=("status",))
    entries = store.query_all("commissions", fields=("orderId", "kind"))
    container.close()
    return len(orders), len({entry["orderId"] for entry in entries if entry["kind"] == "commission"})


@pytest.mark.skipif(sys.platform == "win32", reason="kill -9")
def test_orders_ledger_and_dashboard_agree_after_a_kill_during_a_burst(tmp_path):
    data_dir = tmp_path / "data"
    seed = _seed(data_dir)
    bodies = _bodies()
    kill_after = random.randint(ORDERS // 5, ORDERS * 4 // 5)
    port = _free_port()
    child = _start(data_dir, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            first = _post_all(client, seed, bodies, timedelta(0), stop_after=kill_after, child=child)
        child.wait(timeout=10)
        assert first.count(None) > 0, "the kill cut no call"

        port = _free_port()
        child = _start(data_dir, port)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            # Signed a second ahead: a signature is per second and accepted once, so a re-post signed in
            # the very second of a call the kill cut would be refused as that call's replay.
            again = _post_all(client, seed, bodies, timedelta(seconds=1))
            busy = [body for body, status in zip(bodies, again, strict=True) if status == 503]
            if busy:  # as told by Retry-After: the dead call's ledger mark is stale a minute after it was set
                moved = client.post("/api/v1/dev/clock/advance", json={"seconds": 61}).json()["now"]
                offset = datetime.fromisoformat(moved.replace("Z", "+00:00")) - datetime.now(UTC)
                again = [status for status in again if status != 503] + _post_all(client, seed, busy, offset)
            assert set(again) <= {200, 201}, again
            totals = client.get(f"/api/v1/manager/brands/{BRAND}/tracking/dashboard",
                                headers={"Authorization": f"Bearer {seed['token']}"}).json()["totals"]
    finally:
        child.kill()
        child.wait(timeout=10)
    orders, ledger_orders = _count_stored(data_dir)
    seen = {"orders": orders, "ledger entries": ledger_orders, "dashboard orders": totals["orders"],
            "dashboard sales": totals["salesMinor"], "dashboard commission": totals["commissionMinor"]}
    assert seen == {"orders": ORDERS, "ledger entries": ORDERS, "dashboard orders": ORDERS,
                    "dashboard sales": {"EUR": ORDERS * AMOUNT},
                    "dashboard commission": {"EUR": ORDERS * AMOUNT // 10}}, f"killed after {kill_after} answers"
