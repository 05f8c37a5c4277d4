"""Conversation dashboards over 1,000,000 counted messages, on the embedded SQLite store.

A brand of 200 members in 20 stores has about 50,000 conversations over a year, 20 messages each on
average, some resumed on later days, until 1,000,000 messages are counted. Their counter documents are what the
queue's handlers would write: each message's changes come from the handler's own decision
(`metrics._message_deltas`, against each conversation's state), added up in memory and written in
batches (running the handler a million times would only time the writes, not the dashboards).
The handler itself is timed on a sample for information.

Timed (target p95 ≤ 50 ms): the brand's dashboard over 30 days and over a year, a member's over
30 days, a store's over 90 days (each with its live `ongoing` count).

Run: .venv/bin/python -m bench.bench_conversation_metrics
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from bench.timing import latency_line, timed
from shared.adapters.sqlite_store import SqliteDocumentStore
from shared.clock import SettableClock, isoformat
from shared.conversations import dashboards, metrics
from shared.conversations.conversations import CONVERSATIONS
from shared.conversations.events import MessagePosted
from shared.ports.store import Write

BRAND = "bench-brand"
MESSAGES = int(os.environ.get("BENCH_METRIC_MESSAGES", "1000000"))
MEMBERS, STORES = 200, 20
YEAR_START = datetime(2029, 1, 1, tzinfo=UTC)
NOW = datetime(2029, 12, 31, 18, tzinfo=UTC)
RUNS, TARGET_MS = 100, 50.0
SAMPLE = 2000


def _conversation_messages(rng: random.Random, started: datetime, count: int) -> list[tuple[datetime, str]]:
    """A conversation's messages: a first burst, then now and then a later day (resumed)."""
    at, found = started + timedelta(seconds=rng.randint(5, 120)), []
    for n in range(count):
        if n and rng.random() < 0.08:
            at += timedelta(days=rng.randint(1, 20), seconds=rng.randint(0, 3600))
        else:
            at += timedelta(seconds=rng.randint(5, 300))
        if at > NOW:  # the rest is in the future
            break
        found.append((at, "member" if n % 2 == 0 else "visitor"))
    return found or [(started + timedelta(seconds=5), "member")]


def _build(store) -> int:
    rng = random.Random(7)
    docs: dict[tuple[str, str, str], dict] = {}

    def add(scopes, deltas) -> None:
        for scope, scope_id in scopes:
            for day, increments in deltas.items():
                key = (scope, scope_id, day)
                doc = docs.get(key)
                if doc is None:
                    doc = docs[key] = {"id": metrics.stats_id(scope, scope_id, day),
                                       "pk": metrics.stats_pk(BRAND, scope, scope_id), "scope": scope,
                                       "scopeId": scope_id, "day": day, "counts": {}, "active": {},
                                       "dialogueActive": {}, "seen": []}
                for path, amount in increments.items():
                    if amount:
                        metrics._add(doc, path, amount)

    conversations, written, n = [], 0, -1
    while written < MESSAGES:
        n += 1
        member = f"m{n % MEMBERS:03d}"
        store_id = f"s{n % MEMBERS % STORES:02d}"
        scopes = metrics._scopes(member, store_id)
        requested = YEAR_START + timedelta(seconds=rng.randint(0, 364 * 86400))
        started = requested + timedelta(seconds=rng.randint(5, 600))
        kind = "waiting_list" if n % 3 else "direct"
        if kind == "direct":
            requested = started
        count = rng.randint(1, 39)
        messages = _conversation_messages(rng, started, count)
        firsts = {}
        for at, author in messages:
            firsts.setdefault(author, at)
        dialogue_at = max(firsts.values()) if len(firsts) == 2 else None
        conversation = {"dialogueAt": isoformat(dialogue_at) if dialogue_at else None}
        state = {"startedAt": isoformat(started), "requestedAt": isoformat(requested), "days": {},
                 "dialogueDays": {}, "dialogueCounted": False}
        counts = {"started": 1, f"started_{kind}": 1, "handled": 1, f"handled_{kind}": 1, "requests": 1,
                  f"requests_{kind}": 1}
        if kind == "waiting_list":
            counts["handlingMs"] = metrics.millis(started, requested)
        add(scopes, {metrics.day_of(started): {f"counts.{k}": v for k, v in counts.items()}})
        for at, author in messages:
            add(scopes, metrics._message_deltas(state, conversation, isoformat(at), author))
        written += len(messages)
        conversations.append({"id": f"c{n:06d}", "kind": kind, "memberId": member, "storeId": store_id,
                              "startedAt": isoformat(started), "lastMessageAt": isoformat(messages[-1][0])})
    by_partition: dict[str, list[dict]] = defaultdict(list)
    for doc in docs.values():
        by_partition[doc["pk"]].append(doc)
    for items in by_partition.values():
        for start in range(0, len(items), 100):
            store.write_batch(metrics.STATS, [Write("create", doc) for doc in items[start:start + 100]])
    for start in range(0, len(conversations), 100):
        store.write_batch(CONVERSATIONS, [Write("create", doc) for doc in conversations[start:start + 100]])
    return written, len(conversations)


def _handler_rate(root: Path) -> float:
    """Messages a second the real queue handler counts (one conversation per 20 messages), on its own store."""
    store_root = SqliteDocumentStore(root / "handler.sqlite3")
    store_root.ensure_schema()
    store = store_root.for_brand(BRAND)
    platform = SimpleNamespace(store=store_root, clock=SettableClock(NOW))
    events = []
    for n in range(SAMPLE // 20):
        store.create(CONVERSATIONS, {"id": f"h{n}", "kind": "waiting_list", "memberId": "m1", "storeId": "s1",
                                     "startedAt": isoformat(NOW), "requestedAt": isoformat(NOW),
                                     "dialogueAt": isoformat(NOW + timedelta(seconds=2))})
        for k in range(20):
            author = "member:m1" if k % 2 == 0 else f"visitor:v{n}"
            events.append(MessagePosted(id=f"e{n}-{k}", brand_id=BRAND, occurred_at=NOW + timedelta(seconds=k),
                                        conversation_id=f"h{n}", message_id=f"h{n}-{k}", seq=f"{k:04d}",
                                        author=author, recipient="x"))
    began = time.perf_counter()
    for event in events:
        metrics.count_message(platform, event)
    elapsed = time.perf_counter() - began
    store_root.close()
    return len(events) / elapsed


def run() -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        root = SqliteDocumentStore(Path(tmp) / "store.sqlite3")
        root.ensure_schema()
        store = root.for_brand(BRAND)
        began = time.perf_counter()
        written, count = _build(store)
        lines = [f"{written:,} messages in {count:,} conversations, {MEMBERS} members, {STORES} stores: "
                 f"counters built in {time.perf_counter() - began:.1f} s"]
        end = NOW.date()

        def days_back(n: int) -> str:
            return date.fromordinal(end.toordinal() - n + 1).isoformat()

        cases = (("brand, 30 days", "brand", "", 30), ("brand, a year (365 days)", "brand", "", 365),
                 ("a member, 30 days", "member", "m007", 30), ("a store, 90 days", "store", "s03", 90))
        for label, scope, scope_id, span in cases:
            def read(_: int, scope=scope, scope_id=scope_id, span=span) -> object:
                return dashboards.dashboard(store=store, scope=scope, scope_id=scope_id, start=days_back(span),
                                            end=end.isoformat(), now=NOW, abandon_minutes=15)
            median, p95 = timed(read, runs=RUNS)
            lines.append(latency_line(f"dashboard: {label}", median, p95, TARGET_MS))
        year = dashboards.dashboard(store=store, scope="brand", scope_id="", start=days_back(365),
                                    end=end.isoformat(), now=NOW, abandon_minutes=15)
        lines.append(f"  the year: {year.totals.messages:,} messages, {year.totals.active_conversations:,} active "
                     f"conversations, {year.totals.active_dialogues:,} active dialogues (each counted once)")
        root.close()
        lines.append(f"queue handler, counting messages: {_handler_rate(Path(tmp)):,.0f} messages/s "
                     "(one worker, for information)")
    return lines


if __name__ == "__main__":
    for line in run():
        print(line)
