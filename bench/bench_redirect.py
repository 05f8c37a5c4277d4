"""The share-link redirect `/t/{code}` against two baselines that are not our code, each on its own server.

Three servers, each its own process with one uvicorn worker on real sockets, started one at a time:
- a raw ASGI app answering a fixed 302 (the moonshot baseline: target >= 0.5x of it);
- a bare FastAPI app with one async endpoint answering a fixed 302, no middleware (target >= 0.6x);
- the product (`create_app`, the edge and everything behind it) on the embedded default, with a brand,
  a member and a link seeded; every counted click hashes the IP and user agent, signs its reference,
  hands its visit to the write-behind outbox (sent to the SQLite queue every 50 ms, as in `make run`)
  and writes its access line (INFO, to a discarded stream).
The load comes from wrk when it is installed (`apt-get install wrk`), else from a small asyncio
generator speaking HTTP/1.1 over raw streams (which saturates sooner: its figures say so).
`CONNECTIONS` keep-alive connections, `ROUNDS` rounds of `ROUND_SECONDS` per server, servers alternating
round by round, so a noisy neighbour on the machine hurts all three alike.

Run: .venv/bin/python -m bench.bench_redirect
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONNECTIONS = 48
WARMUP_SECONDS = 2.0
ROUNDS = 3
ROUND_SECONDS = 4.0
TARGET = "https://www.bench-brand.com/p/42?color=red"
BROWSER = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/120.0.0.0 Safari/537.36")
BRAND = "bench-brand"
ROOT = Path(__file__).resolve().parent.parent
SERVERS = ("raw ASGI 302", "bare FastAPI 302", "redirect /t/{code}")


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
    repository.save(store=container.store.for_brand(BRAND), container=repository.MEMBERS, model=member, etag=None)
    link = links.create(store=container.store.for_brand(BRAND), platform=container.store.for_brand(PLATFORM_SCOPE),
                        brand=brand, member=member, now=container.clock.now(), app_base_url="https://app.example",
                        data=links.LinkCreate.model_validate({"source": "facebook",
                                                              "target": {"kind": "product", "url": TARGET}}))
    return link.code


async def _raw_asgi(scope, receive, send) -> None:  # noqa: ANN001 - the ASGI signature
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 302,
                "headers": [(b"location", TARGET.encode()), (b"cache-control", b"no-store"),
                            (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


def _bare_fastapi():  # noqa: ANN202
    from fastapi import FastAPI, Response

    app = FastAPI()

    @app.get("/t/{code}")
    async def bare(code: str) -> Response:
        return Response(status_code=302, headers={"Location": TARGET, "Cache-Control": "no-store"})

    return app


def _settings(data_dir: str):  # noqa: ANN202
    from shared.config import Settings

    return Settings(env="local", data_dir=Path(data_dir), demo_brand=False, dev_endpoints=False, log_level="INFO")


def _seed_once(data_dir: str) -> None:
    from popsell.bootstrap import build_container

    container = build_container(_settings(data_dir))
    (Path(data_dir) / "code.txt").write_text(_seed(container))
    container.close()


def _product(data_dir: str) -> tuple[object, str]:
    import logging

    from functions.http_api.app import create_app
    from popsell.bootstrap import build_container, set_container

    settings = _settings(data_dir)
    set_container(build_container(settings))
    code = (Path(data_dir) / "code.txt").read_text()
    app = create_app(settings)
    logging.getLogger().handlers[0].setStream(open(os.devnull, "w"))  # noqa: SIM115 - the server's lifetime
    return app, code


def serve(kind: str, port: int, data_dir: str) -> None:
    """Child process: build one of the three apps and serve it on one worker."""
    import uvicorn

    code = "bench42"
    if kind == "raw":
        app = _raw_asgi
    elif kind == "bare":
        app = _bare_fastapi()
    else:
        app, code = _product(data_dir)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, workers=1,
                            lifespan="on")
    server = uvicorn.Server(config)
    config.load()
    print(f"READY {code}", flush=True)
    server.run()


# --- load generators -------------------------------------------------------------------------------

def _wrk(port: int, path: str, seconds: float) -> tuple[float, float, float]:
    """(requests per second, p50 ms, p99 ms) measured by wrk."""
    result = subprocess.run(  # noqa: S603 - wrk from the machine's packages
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds:.0f}s", "--latency", "-H", f"User-Agent: {BROWSER}",
         f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", result.stdout).group(1))

    def percentile(name: str) -> float:
        value, unit = re.search(rf"\s{name}%\s+([\d.]+)(us|ms|s)", result.stdout).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    if "Non-2xx or 3xx" in result.stdout:
        raise RuntimeError(f"unexpected answers on {path}")
    return rps, percentile("50"), percentile("99")


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


def _asyncio_load(port: int, path: str, seconds: float) -> tuple[float, float, float]:
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: {BROWSER}\r\n"
               "Accept: text/html\r\n\r\n").encode()
    latencies: list[float] = []

    async def run() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(_connection(port, request, started + seconds, latencies) for _ in range(CONNECTIONS)))
        return time.perf_counter() - started

    elapsed = asyncio.run(run())
    latencies.sort()
    return (len(latencies) / elapsed, statistics.median(latencies) * 1000,
            latencies[int(len(latencies) * 0.99) - 1] * 1000)


# --- the run ---------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the bench server is not listening")


class _Server:
    def __init__(self, kind: str, data_dir: str) -> None:
        self.port = _free_port()
        self.child = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "bench.bench_redirect", "--serve", kind, str(self.port), data_dir],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
            env={**os.environ, "POPSELL_LOG_LEVEL": "INFO"})
        ready = self.child.stdout.readline().split() if self.child.stdout else []
        if not ready or ready[0] != "READY":
            self.stop()
            raise RuntimeError(f"the {kind} bench server did not start")
        self.path = f"/t/{ready[1]}"
        _wait_for(self.port)

    def stop(self) -> None:
        self.child.terminate()
        self.child.wait(timeout=15)


def _queued(data_dir: str) -> int:
    """Visits the product's server left on the tracking queue (its outbox flushed at shutdown)."""
    from popsell.bootstrap import build_container
    from shared.ports.bus import QUEUE_TRACKING_EVENTS

    container = build_container(_settings(data_dir))
    queued = 0
    while batch := container.bus.receive(QUEUE_TRACKING_EVENTS, max_messages=1000):
        queued += len(batch)
    container.close()
    return queued


def run() -> list[str]:
    """Serve each app in turn, load it, and return the figures with both ratios."""
    load = _wrk if shutil.which("wrk") else _asyncio_load
    tool = "wrk" if load is _wrk else "an asyncio generator (install wrk for truer figures)"
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in SERVERS}
    requests_sent = 0
    with tempfile.TemporaryDirectory(prefix="bench-redirect-") as data_dir:
        _seed_once(data_dir)
        kinds = dict(zip(SERVERS, ("raw", "bare", "product"), strict=True))
        for round_index in range(ROUNDS + 1):  # round 0 warms each server up and is not counted
            for name, kind in kinds.items():
                server = _Server(kind, data_dir)
                try:
                    load(server.port, server.path, WARMUP_SECONDS)
                    if round_index:
                        figures = load(server.port, server.path, ROUND_SECONDS)
                        results[name].append(figures)
                        if kind == "product":
                            requests_sent += int(figures[0] * ROUND_SECONDS)
                finally:
                    server.stop()
        queued = _queued(data_dir)
    lines = [f"Redirect vs baselines: one uvicorn worker each, {CONNECTIONS} keep-alive connections, load by {tool}, "
             f"{ROUNDS} rounds of {ROUND_SECONDS:.0f} s per server"]
    rps = {}
    for name, rounds in results.items():
        rps[name] = statistics.median(r[0] for r in rounds)
        p50 = statistics.median(r[1] for r in rounds)
        p99 = statistics.median(r[2] for r in rounds)
        lines.append(f"{name:<22} {rps[name]:8.0f} req/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")
    bare = rps["redirect /t/{code}"] / rps["bare FastAPI 302"]
    raw = rps["redirect /t/{code}"] / rps["raw ASGI 302"]
    lines.append(f"redirect / bare FastAPI (own server, no middleware) {bare:5.2f}x  target >= 0.60x  "
                 f"{'OK' if bare >= 0.6 else 'UNDER TARGET'}")
    lines.append(f"redirect / raw ASGI (own server)                    {raw:5.2f}x  moonshot >= 0.50x  "
                 f"{'OK' if raw >= 0.5 else 'not reached'}")
    lines.append(f"visits on the tracking queue after the runs (warm-ups included): {queued:,} "
                 f"(counted rounds alone: about {requests_sent:,})")
    return lines


def main() -> None:
    """Print the figures (or serve, when started as the bench's child process)."""
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return
    for line in run():
        print(line, flush=True)


if __name__ == "__main__":
    main()
