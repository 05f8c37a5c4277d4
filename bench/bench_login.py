"""Member login through the whole API (TestClient) against a bare bcrypt.checkpw at the same cost.

Login is one bcrypt check (cost 12, about a quarter of a second) plus a few store reads and
writes: the throttle guard, the member, the activity record, the session. Both sides run in the
same process on the same machine, so the ratio shows what the service adds around bcrypt
(target: at most 1.3x).

Run: .venv/bin/python -m bench.bench_login
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import bcrypt

ROUNDS = 15
EMAIL = "bench.member@example.com"
PASSWORD = "bench password 1234"


def _median_ms(operation, rounds: int) -> float:
    operation()  # warm up caches and connections
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        operation()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def _member_login(folder: Path):
    from fastapi.testclient import TestClient

    from functions.http_api.app import create_app
    from popsell.bootstrap import build_container, set_container
    from shared.brands import service as brands
    from shared.brands.models import BrandCreate
    from shared.config import Settings
    from shared.identity import repository
    from shared.identity.models import Member, TermsAcceptance
    from shared.identity.passwords import hash_password

    settings = Settings(env="local", data_dir=folder, demo_brand=False, log_level="WARNING")
    container = build_container(settings)
    set_container(container)
    brands.create(store=container.store, clock=container.clock, data=BrandCreate(id="bench", name="Bench"))
    store = container.store.for_brand("bench")
    now = container.clock.now()
    email_hash = container.hasher("bench")("email", EMAIL)
    member = Member(id="m1", role=0, status="active", created_at=now, email=EMAIL, email_hash=email_hash,
                    email_verified_at=now, password_hash=hash_password(PASSWORD),
                    popsell_terms=TermsAcceptance(version="v1", accepted_at=now))
    repository.save(store=store, container=repository.MEMBERS, model=member, etag=None)
    repository.claim_key(store=store, kind="email", hashed=email_hash, owner_id="m1", owner_type="member")
    client = TestClient(create_app(settings))

    def login() -> None:
        response = client.post("/api/v1/app/bench/auth/login", json={"email": EMAIL, "password": PASSWORD})
        if response.status_code != 200:
            raise RuntimeError(f"login failed: {response.status_code}")

    return login, member.password_hash, lambda: (client.close(), set_container(None))


def run() -> list[str]:
    """Time a full login and a bare bcrypt check at the same cost; one line per figure."""
    with tempfile.TemporaryDirectory(prefix="bench-login-") as folder:
        login, password_hash, close = _member_login(Path(folder))
        try:
            hashed = password_hash.encode()
            bare = _median_ms(lambda: bcrypt.checkpw(PASSWORD.encode(), hashed), ROUNDS)
            service = _median_ms(login, ROUNDS)
        finally:
            close()
    cost = password_hash.split("$")[2]
    return [
        f"member login vs bare bcrypt.checkpw (cost {cost}, median of {ROUNDS})",
        f"bcrypt.checkpw        {bare:8.1f} ms",
        f"POST .../auth/login   {service:8.1f} ms   overhead {service / bare:4.2f}x (target <= 1.30x)",
    ]


if __name__ == "__main__":
    for line in run():
        print(line)
