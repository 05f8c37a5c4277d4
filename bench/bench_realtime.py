"""The local realtime hub under uvicorn: publish→receive latency with 1,000 connected WebSocket clients.

The app (create_app, the local hub's route) is served by uvicorn on a free local port in a thread
of this process; publishes are made from this process's main thread, as a sync route's worker
thread would (the hub hands each frame to the event loop thread-safely). The 1,000 clients run in a
subprocess (the `websockets` client on one asyncio loop), each connected with its own token to its
own group, so client and server do not share a GIL. Each envelope carries its wall-clock publish
time; the client notes the receive time (same machine, same clock). Rounds publish one envelope to
every client's group, paced; the figures are over every envelope received.

Then end to end, with the 1,000 clients still connected: each client is a member in a conversation
with a visitor; the visitor's message is sent by HTTP POST to the widget route (stored, counted,
its push published after the write, as in production), and the latency runs from just before the
POST to the member's client receiving its `conversation.message` envelope.
Run: python -m bench.bench_realtime
"""

from __future__ import annotations

import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

CLIENTS = 1_000
ROUNDS = 3
MESSAGES = 300  # end-to-end posts, one per conversation, paced
RATE_PER_SECOND = 2_000  # publishes per second within a round
TARGET = "p95 ≤ 50 ms with 1,000 connected clients"
BRAND = "bench"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _clients(urls: list[str], expected: int) -> dict[str, object]:
    """The subprocess side: connect every client, say ready, collect latencies until `expected` arrive.

    Pings carry their publish time; a conversation's message push is noted by its conversation id.
    """
    from websockets.asyncio.client import connect

    latencies: list[float] = []
    received: dict[str, float] = {}
    done = asyncio.Event()
    gate = asyncio.Semaphore(50)

    async def one(url: str, ready: asyncio.Event) -> None:
        async with gate:
            socket_ = await connect(url, subprotocols=["json.webpubsub.azure.v1"], max_queue=None, open_timeout=60,
                                    ping_interval=None)
        ready.set()
        async with socket_:
            async for raw in socket_:
                frame = json.loads(raw)
                if frame.get("type") != "message":
                    continue
                pushed = frame["data"]
                if pushed["type"] == "conversation.message":
                    received.setdefault(pushed["data"]["conversationId"], time.time())
                else:
                    latencies.append(time.time() - pushed["data"]["t"])
                if len(latencies) + len(received) >= expected:
                    done.set()

    started = time.perf_counter()
    readies = [asyncio.Event() for _ in urls]
    tasks = [asyncio.create_task(one(url, ready)) for url, ready in zip(urls, readies, strict=True)]
    for ready in readies:
        await ready.wait()
    connect_seconds = time.perf_counter() - started
    print("ready", flush=True)
    try:
        await asyncio.wait_for(done.wait(), timeout=60)
    except TimeoutError:
        pass
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"latencies": latencies, "received": received, "connect_seconds": connect_seconds}


def _client_main(urls_file: str, expected: int) -> None:
    urls = json.loads(Path(urls_file).read_text())
    result = asyncio.run(_clients(urls, expected))
    print(json.dumps(result), flush=True)


def _conversations(container) -> tuple[list[str], dict[str, str]]:
    """The bench brand, its members m0..m999, one visitor each with a conversation; the ids and widget tokens."""
    from shared.brands import service as brands
    from shared.brands.models import BrandCreate
    from shared.conversations import conversations
    from shared.conversations.models import Party
    from shared.identity import repository, visitors
    from shared.identity.models import ExternalUser, Member, Role, TermsAcceptance

    now = container.clock.now()
    brands.create(store=container.store, clock=container.clock,
                  data=BrandCreate.model_validate({"id": BRAND, "name": "Bench"}))
    store = container.store.for_brand(BRAND)
    ids, tokens = [], {}
    for i in range(CLIENTS):
        member = Member(id=f"m{i}", role=Role.VENDOR, status="active", created_at=now)
        repository.save(store=store, container=repository.MEMBERS, model=member, etag=None)
        visitor = ExternalUser(id=f"v{i}", role=Role.TEMPORARY_ACCOUNT, created_at=now,
                               widget_policy=TermsAcceptance(version="1", accepted_at=now),
                               service_terms=TermsAcceptance(version="1", accepted_at=now))
        repository.save(store=store, container=repository.VISITORS, model=visitor, etag=None)
        doc = conversations.start(store=store, events=container.events, conversation_id=f"c{i:04d}", kind="direct",
                                  member=Party(kind="member", id=member.id),
                                  visitor=Party(kind="visitor", id=visitor.id), started_at=now, requested_at=now)
        ids.append(doc["id"])
        tokens[doc["id"]] = visitors.widget_token(container.tokens, visitor, brand_id=BRAND, now=now)
    return ids, tokens


def _post_messages(port: int, conversation_ids: list[str], tokens: dict[str, str]) -> dict[str, float]:
    """Each visitor writes once, paced; the wall-clock instant just before each POST, by conversation."""
    import httpx

    sent: dict[str, float] = {}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        for n, conversation_id in enumerate(conversation_ids):
            sent[conversation_id] = time.time()
            answer = client.post(f"/api/v1/widget/{BRAND}/conversations/{conversation_id}/messages",
                                 headers={"Authorization": f"Bearer {tokens[conversation_id]}"},
                                 json={"clientMessageId": f"bench-{n:06d}", "text": "Bonjour"})
            if answer.status_code != 201:
                raise RuntimeError(f"post answered {answer.status_code}: {answer.text[:200]}")
            time.sleep(0.02)
    return sent


def _percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def run() -> Iterator[str]:
    import logging

    import uvicorn

    from functions.http_api.app import create_app
    from popsell.bootstrap import build_container, set_container
    from shared.clock import SettableClock
    from shared.config import Settings
    from shared.ports.realtime import member_group
    from shared.realtime import access

    logging.getLogger("popsell").setLevel(logging.WARNING)
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="bench-realtime-") as folder:
        settings = Settings(env="local", data_dir=Path(folder), demo_brand=False,
                            public_base_url=f"http://127.0.0.1:{port}", log_level="WARNING")
        container = build_container(settings, clock=SettableClock(datetime.now(UTC), running=True))
        set_container(container)
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_config=None, access_log=False,
                                lifespan="off", ws_max_queue=1024, ws_ping_interval=None)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        hub = container.realtime
        conversation_ids, visitor_tokens = _conversations(container)
        groups = [member_group(brand_id=BRAND, member_id=f"m{i}") for i in range(CLIENTS)]
        urls = [access.negotiate(realtime=hub, brand_id=BRAND, user_id=f"m{i}", groups=[group],
                                 ttl=timedelta(minutes=10))["url"] for i, group in enumerate(groups)]
        urls_file = Path(folder) / "urls.json"
        urls_file.write_text(json.dumps(urls))
        expected = CLIENTS * ROUNDS + MESSAGES
        child = subprocess.Popen([sys.executable, "-m", "bench.bench_realtime", str(urls_file), str(expected)],
                                 stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout is not None
            if child.stdout.readline().strip() != "ready":
                raise RuntimeError("the clients did not connect")
            connected = hub.connection_count()
            pause = 1 / RATE_PER_SECOND
            publish_started = time.perf_counter()
            for _ in range(ROUNDS):
                for group in groups:
                    # A sync publish from this (non-loop) thread, as a request's worker thread makes it.
                    access.publish(realtime=hub, clock=container.clock, group=group, type="bench.ping",
                                   brand_id=BRAND, data={"t": time.time()})
                    time.sleep(pause)
            publish_seconds = time.perf_counter() - publish_started
            sent = _post_messages(port, conversation_ids[:MESSAGES], visitor_tokens)
            result = json.loads(child.stdout.readline())
            child.wait(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
            server.should_exit = True
            thread.join(timeout=10)
            set_container(None)
            container.close()
    latencies = sorted(value * 1000 for value in result["latencies"])
    end_to_end = sorted((result["received"][cid] - at) * 1000 for cid, at in sent.items() if cid in result["received"])
    yield f"clients connected: {connected} in {result['connect_seconds']:.1f} s (target {CLIENTS})"
    yield (f"published {CLIENTS * ROUNDS} envelopes ({ROUNDS} rounds, one per client's group) in "
           f"{publish_seconds:.1f} s; received {len(latencies)}")
    if latencies:
        yield (f"publish→receive latency: p50 {statistics.median(latencies):.1f} ms, "
               f"p95 {_percentile(latencies, 0.95):.1f} ms, max {latencies[-1]:.1f} ms (target {TARGET})")
    if end_to_end:
        yield (f"message sent (HTTP POST) → delivered to the other party: {len(end_to_end)} of {len(sent)} received, "
               f"p50 {statistics.median(end_to_end):.1f} ms, p95 {_percentile(end_to_end, 0.95):.1f} ms, "
               f"max {end_to_end[-1]:.1f} ms (target {TARGET})")


if __name__ == "__main__":
    if len(sys.argv) == 3:
        _client_main(sys.argv[1], int(sys.argv[2]))
    else:
        for line in run():
            print(line, flush=True)
