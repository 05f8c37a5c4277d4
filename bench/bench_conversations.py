"""Conversations on the embedded SQLite store: the waiting-list race, a member's list and a message page.

- Race: 50 members pick up one waiting-list request at once (threads released together, through
  the service the route calls), 40 times; every round must leave exactly one winner (counted and
  printed), and the pick-up latency's p99 is printed.
- List and page: a brand with 100,000 conversations (their documents and both parties' inbox
  entries written through `write_batch`, as `conversations.start` writes them), one member holding
  200 of them with 60 messages each in 20: that member's conversation list with unread counts (a
  page of 20) and a page of 50 messages (target p95 ≤ 20 ms each).

Run: .venv/bin/python -m bench.bench_conversations
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.timing import latency_line, timed
from shared.adapters.sqlite_store import SqliteDocumentStore
from shared.clock import isoformat
from shared.conversations import conversations, requests
from shared.conversations.models import Party, TextIn, WaitingListRequestIn
from shared.errors import Conflict
from shared.identity.models import ExternalUser, Member, Role, TermsAcceptance
from shared.ports.store import Write

BRAND = "bench-brand"
NOW = datetime(2030, 1, 1, 9, tzinfo=UTC)
RACERS, ROUNDS = 50, 40
CONVERSATIONS = int(os.environ.get("BENCH_CONVERSATIONS", "100000"))
MINE, MESSAGES, WITH_MESSAGES = 200, 60, 20
RUNS = 200
TARGET_MS = 20.0


class _NoEvents:
    def publish(self, *events: object) -> None:
        """No handlers in the bench."""


def _race(store) -> tuple[list[int], list[float]]:
    members = [Member(id=f"m{n}", role=Role.VENDOR, status="active", created_at=NOW, availability="online")
               for n in range(RACERS)]
    winners, latencies = [], []
    for round_ in range(ROUNDS):
        visitor = ExternalUser(id=f"v{round_}", role=Role.TEMPORARY_ACCOUNT, created_at=NOW,
                               widget_policy=TermsAcceptance(version="1", accepted_at=NOW),
                               service_terms=TermsAcceptance(version="1", accepted_at=NOW))
        request = requests.join(store=store, events=_NoEvents(), visitor=visitor, data=WaitingListRequestIn(),
                                now=NOW, abandon_minutes=15)
        start = threading.Barrier(RACERS)

        def take(member: Member, request_id: str = request.id, start: threading.Barrier = start) -> bool:
            start.wait()
            began = time.perf_counter()
            try:
                requests.pick_up(store=store, events=_NoEvents(), member=member, request_id=request_id, now=NOW,
                                 abandon_minutes=15)
                won = True
            except Conflict:
                won = False
            latencies.append((time.perf_counter() - began) * 1000)
            return won

        with ThreadPoolExecutor(max_workers=RACERS) as pool:
            winners.append(sum(pool.map(take, members)))
    return winners, latencies


def _load(store) -> None:
    member, at = Party(kind="member", id="me"), isoformat(NOW)
    for start in range(0, CONVERSATIONS, 50):
        docs, entries = [], []
        for n in range(start, min(start + 50, CONVERSATIONS)):
            owner = member if n < MINE else Party(kind="member", id=f"m{n % 500}")
            visitor = Party(kind="visitor", id=f"v{n}")
            conversation_id = f"c{n:06d}"
            docs.append(Write("create", {
                "id": conversation_id, "kind": "waiting_list", "parties": [owner.model_dump(), visitor.model_dump()],
                "requestId": None, "requestedAt": at, "startedAt": at, "firstMessageAt": {}, "dialogueAt": None,
                "lastMessageAt": None, "lastSeq": "", "messageCount": 0, "readSeq": {}}))
            active = isoformat(NOW + timedelta(seconds=n))
            for one, other in ((owner, visitor), (visitor, owner)):
                entry = conversations.inbox_entry(one, other, conversation_id, "waiting_list", active)
                entries.append(Write("create", {**entry, "unread": n % 7}))
        store.write_batch(conversations.CONVERSATIONS, docs)
        for chunk in range(0, len(entries), 100):
            store.write_batch(conversations.INBOX, entries[chunk:chunk + 100])
    for n in range(WITH_MESSAGES):
        for index in range(MESSAGES):
            author = member if index % 2 else Party(kind="visitor", id=f"v{n}")
            conversations.post(store=store, events=_NoEvents(), conversation_id=f"c{n:06d}", author=author,
                               data=TextIn(client_message_id=f"msg-{index:05d}", text="Bonjour " * 8),
                               now=NOW + timedelta(seconds=index))


def run() -> list[str]:
    with tempfile.TemporaryDirectory(prefix="bench-conversations-") as name:
        database = SqliteDocumentStore(Path(name) / "store.sqlite3")
        database.ensure_schema()
        store = database.for_brand(BRAND)
        winners, latencies = _race(store)
        latencies.sort()
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        began = time.perf_counter()
        _load(store)
        load_seconds = time.perf_counter() - began
        me = Party(kind="member", id="me")
        lines = [
            f"Waiting-list race on SQLite: {RACERS} members x {ROUNDS} requests: exactly one winner in "
            f"{sum(w == 1 for w in winners)}/{ROUNDS} rounds (must be all)   pick-up p50 "
            f"{statistics.median(latencies):.1f} ms   p99 {p99:.1f} ms",
            f"Conversations on SQLite ({CONVERSATIONS:,} in the brand, loaded in {load_seconds:.0f} s)",
        ]
        kinds = [
            ("a member's list, page of 20", lambda i: conversations.inbox(store=store, party=me, page_size=20)),
            ("a page of 50 messages", lambda i: conversations.messages(
                store=store, conversation_id=f"c{i % WITH_MESSAGES:06d}", party=me, page_size=50)),
        ]
        for label, operation in kinds:
            lines.append(latency_line(label, *timed(operation, runs=RUNS), TARGET_MS, width=32))
        database.close()
    return lines


if __name__ == "__main__":
    for line in run():
        print(line)
