"""The share-link redirect `/t/{code}` against a bare FastAPI endpoint on the same server (target ≥ 60 %).

One uvicorn server (real sockets, one worker process, started as a child process so the load
generator does not share its interpreter) serves the real app on the embedded default, plus a
bare endpoint `/bench/bare` answering a fixed 302, added to the same app instance (so both pay the
same middleware). A brand, a member and a link are seeded first. The load generator keeps
`CONNECTIONS` keep-alive connections busy, `ROUNDS` times `ROUND_SECONDS` per endpoint, alternating;
it speaks HTTP/1.1 over raw asyncio streams, because an httpx client in one Python process
saturates before the server does and would measure itself. Every counted redirect hands its
visit to the write-behind outbox, which sends to the SQLite queue every 50 ms, as in `make run`;
the figures end with how many visits reached the queue.

Run: .venv/bin/python -m bench.bench_redirect
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONNECTIONS = 48
WARMUP_SECONDS = 2.0
ROUNDS = 4  # the endpoints alternate, so a noisy neighbour on the machine hurts both alike
ROUND_SECONDS = 2.0
TARGET = "https://www.bench-brand.com/p/42?color=red"
BROWSER = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/120.0.0.0 Safari/537.36")
BRAND = "bench-brand"


def _seed(container) -> str:  # noqa: ANN001 - the composition root
    """A brand, an active member and one link; returns the link's code."""
    from shared.brands import service as brands
    from shared.brands.models import BrandCreate
    from shared.identity import repository
    from shared.identity.models import Member, Role
    from shared.store_schema import PLATFORM_SCOPE
    from shared.tracking import links

    brand, _ = brands.create(store=container.store, clock=container.clock, data=BrandCreate.model_validate(
        {"id": BRAND, "name": "Bench", "allowedDomains": ["bench-brand.com"], "homeUrl": "https://bench-brand.com"}))
    member = Member(id="m1", role=Role.VENDOR, status="active", created_at=container.clock.now(),
                    first_name="Ana", last_name="Lopes", email="m1@example.com")
    repository.save(container.store.for_brand(BRAND), repository.MEMBERS, member, etag=None)
    link = links.create(store=container.store.for_brand(BRAND), platform=container.store.for_brand(PLATFORM_SCOPE),
                        brand=brand, member=member, now=container.clock.now(), app_base_url="https://app.example",
                        data=links.LinkCreate.model_validate({"source": "facebook",
                                                              "target": {"kind": "product", "url": TARGET}}))
    return link.code


def serve(port: int, data_dir: str) -> None:
    """Child process: seed, mount the bare endpoint next to the real app, serve on one worker."""
    import uvicorn
    from fastapi import Response

    from functions.http_api.app import create_app
    from shared.bootstrap import build_container, set_container
    from shared.config import Settings

    settings = Settings(env="local", data_dir=Path(data_dir), demo_brand=False, dev_endpoints=False)
    container = build_container(settings)
    set_container(container)
    code = _seed(container)
    app = create_app(settings)

    @app.get("/bench/bare", include_in_schema=False)
    async def bare() -> Response:
        return Response(status_code=302, headers={"Location": TARGET, "Cache-Control": "no-store"})

    # First in the route table, so the baseline pays no route matching: the strictest comparison
    # (the redirect's router is the first of ROUTER_MODULES, so it comes right after).
    app.router.routes.insert(0, app.router.routes.pop())

    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, workers=1)
    server = uvicorn.Server(config)
    config.load()
    print(f"READY {code}", flush=True)
    server.run()


async def _connection(port: int, request: bytes, until: float, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 302"):
                raise RuntimeError(f"unexpected answer: {head[:40]!r}")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
    finally:
        writer.close()


async def _load(port: int, path: str, seconds: float) -> tuple[float, list[float]]:
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: {BROWSER}\r\n"
               "Accept: text/html\r\n\r\n").encode()
    latencies: list[float] = []
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(*(_connection(port, request, until, latencies) for _ in range(CONNECTIONS)))
    return len(latencies) / (time.perf_counter() - started), latencies


def _figures(name: str, rps: float, latencies: list[float]) -> str:
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    return f"{name:<28} {rps:8.0f} req/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   ({len(latencies):,} requests)"


def _cache_effect(data_dir: str, code: str) -> str:
    """Time a code lookup from the cache against a point read of the store (same data, this process)."""
    from shared.bootstrap import build_container
    from shared.config import Settings
    from shared.ports.bus import QUEUE_TRACKING_EVENTS
    from shared.tracking.redirect import Redirector
    from shared.tracking.visit_outbox import VisitOutbox

    container = build_container(Settings(env="local", data_dir=Path(data_dir), demo_brand=False))
    queued = 0
    while batch := container.bus.receive(QUEUE_TRACKING_EVENTS, max_messages=1000):
        queued += len(batch)
    redirector = Redirector(store=container.store, outbox=VisitOutbox(container.bus, flush_ms=0),
                            clock=container.clock, master_key="bench",
                            fallback_url="https://fallback.example", app_base_url="https://app.example")
    runs = 2000
    started = time.perf_counter()
    for _ in range(runs):
        redirector.forget(code)
        redirector.link(code)
    miss = (time.perf_counter() - started) / runs * 1e6
    started = time.perf_counter()
    for _ in range(runs):
        redirector.link(code)
    hit = (time.perf_counter() - started) / runs * 1e6
    container.close()
    return (f"visits on the queue after the run (warm-up included): {queued:,}\n"
            f"code lookup: cache hit {hit:6.1f} µs, store point read (miss) {miss:6.1f} µs")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run() -> list[str]:
    """Start the server, load the bare endpoint then the redirect, return the figures."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="bench-redirect-") as data_dir:
        child = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "bench.bench_redirect", "--serve", str(port), data_dir],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=Path(__file__).resolve().parent.parent,
            env={**os.environ, "POPSELL_LOG_LEVEL": "WARNING"},
        )
        try:
            ready = child.stdout.readline().split() if child.stdout else []
            if not ready or ready[0] != "READY":
                raise RuntimeError("the bench server did not start")
            code = ready[1]
            _wait_for(port)
            paths = {"bare FastAPI 302": "/bench/bare", "redirect /t/{code}": f"/t/{code}"}
            for path in paths.values():
                asyncio.run(_load(port, path, WARMUP_SECONDS))
            results: dict[str, tuple[float, list[float]]] = {name: (0.0, []) for name in paths}
            for _ in range(ROUNDS):
                for name, path in paths.items():
                    rps, latencies = asyncio.run(_load(port, path, ROUND_SECONDS))
                    results[name] = (results[name][0] + rps / ROUNDS, results[name][1] + latencies)
        finally:
            child.terminate()
            child.wait(timeout=10)
        lines = [f"Redirect vs bare endpoint: one uvicorn worker, {CONNECTIONS} keep-alive connections, "
                 f"{ROUNDS} alternating rounds of {ROUND_SECONDS:.0f} s each"]
        lines += [_figures(name, rps, latencies) for name, (rps, latencies) in results.items()]
        bare_rps = results["bare FastAPI 302"][0]
        ratio = results["redirect /t/{code}"][0] / bare_rps
        verdict = "ok" if ratio >= 0.6 else "under the target"
        lines.append(f"redirect / bare {ratio:6.0%}   {verdict} (target >= 60 %)")
        lines.append(_cache_effect(data_dir, code))
    return lines


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the bench server is not listening")


def main() -> None:
    """Print the figures (or serve, when started as the bench's child process)."""
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), sys.argv[3])
        return
    for line in run():
        print(line, flush=True)


if __name__ == "__main__":
    main()
