"""Conversation metrics, counted ahead from the conversations' events (docs/conversation-metrics.md).

The glossary's definitions, exactly (instants to the millisecond, days in UTC):
- handling time: a waiting-list request's creation to its pick-up (counted on the day it was handled);
- time to establish a dialogue: the conversation's start to the instant both parties have written
  (the later of their first messages), counted on that day;
- total dialogue conversion time: the visitor's request to that instant (conversations that had a
  request: not in-store ones);
- dialogue duration: the conversation's start to its last message (of the period asked about);
- new conversations / dialogues: started / established in the period; active ones: with at least
  one message in the period (for dialogues: a message once both had written);
- abandoned requests: counted on the day they were (the request's instant plus the brand's time).

One counter document per scope (the brand, a member, a store) and UTC day in `conversation_stats`.
A count of the period asked about ("active in March") is not a sum of days: a conversation active
on three days is one. So each day counts its active conversations *by the next day they were
active* (`active["<next day>"]`, "~" for none yet): the conversations active in [a, b] are those
whose active days in the range are followed by none in it, i.e. the sum over the range's days of
the entries whose next day is after b. When a conversation is active on a new day, its previous
day's entry moves from "~" (or the later day) to the new one. Dialogues do the same with the
duration of each (start to the day's last message), so a period's durations are each dialogue's
at its last message in the period.

Each message's changes are decided once, against the conversation's metric state (its active days,
`conversation_metric_state`), and recorded there as pending in the same write; they are then
applied to each counter document, which remembers the changes it applied; the pending entry goes
last. A crash anywhere is completed by the redelivery, which applies the same recorded changes
(never decided again from a state that moved on), and a second delivery changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shared.clock import isoformat, parse_instant
from shared.conversations.conversations import CONVERSATIONS
from shared.conversations.events import (
    ConversationStarted,
    MessagePosted,
    WaitingRequestAbandoned,
    WaitingRequestJoined,
    WaitingRequestLeft,
)
from shared.ports.platform import Platform
from shared.ports.store import BrandStore
from shared.ports.store_retry import retrying, update_document

STATS = "conversation_stats"
STATE = "conversation_metric_state"
NONE = "~"  # "no later active day yet" (sorts after every day)
SCOPES = ("brand", "member", "store")
# Changes a counter document remembers having applied, and messages a conversation's state: a
# redelivery comes within minutes, long before this many others.
SEEN_MEMORY = 500
COUNTED_MEMORY = 200
# Active days a conversation's state keeps: the longest range a dashboard reads is 366 days.
DAYS_KEPT = 400
_ATTEMPTS = 30

Deltas = dict[str, dict[str, int]]  # day -> counter path ("counts.messages", "active.<day>") -> increment


def day_of(instant: str | datetime) -> str:
    return (parse_instant(instant) if isinstance(instant, str) else instant).date().isoformat()


def millis(later: str | datetime, earlier: str | datetime) -> int:
    """Milliseconds from one instant to another (the counters' unit: sums stay exact integers)."""
    def parsed(at: str | datetime) -> datetime:
        return parse_instant(at) if isinstance(at, str) else at
    return round((parsed(later) - parsed(earlier)).total_seconds() * 1000)


def stats_pk(brand_id: str, scope: str, scope_id: str) -> str:
    return f"{brand_id}|{scope}|{scope_id}"


def stats_id(scope: str, scope_id: str, day: str) -> str:
    return f"{scope}|{scope_id}|{day}"


def _scopes(member_id: str | None, store_id: str | None) -> list[tuple[str, str]]:
    found = [("brand", "")]
    if member_id:
        found.append(("member", member_id))
    if store_id:
        found.append(("store", store_id))
    return found


def _add(doc: dict[str, Any], path: str, amount: int) -> None:
    *parents, leaf = path.split(".")
    node = doc
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = node.get(leaf, 0) + amount
    if node[leaf] == 0 and parents and parents[0] in ("active", "dialogueActive"):
        del node[leaf]  # an entry moved away entirely: keep the maps small
    if parents[:1] == ["dialogueActive"] and len(parents) == 2 and not node:
        del doc["dialogueActive"][parents[1]]


def apply(*, store: BrandStore, scopes: list[tuple[str, str]], change: str, deltas: Deltas) -> None:
    """Add a change's increments to each scope's day documents, once each (`change` names it)."""
    for scope, scope_id in scopes:
        pk = stats_pk(store.brand_id, scope, scope_id)
        for day, increments in sorted(deltas.items()):
            if not any(increments.values()):
                continue

            def changed(doc: dict[str, Any] | None, day: str = day, increments: Mapping[str, int] = increments,
                        scope: str = scope, scope_id: str = scope_id, pk: str = pk) -> dict[str, Any] | None:
                doc = doc or {"id": stats_id(scope, scope_id, day), "pk": pk, "scope": scope, "scopeId": scope_id,
                              "day": day, "counts": {}, "active": {}, "dialogueActive": {}, "seen": []}
                if change in doc["seen"]:
                    return None
                for path, amount in increments.items():
                    if amount:
                        _add(doc, path, amount)
                doc["seen"] = [*doc["seen"], change][-SEEN_MEMORY:]
                return doc

            update_document(store, STATS, stats_id(scope, scope_id, day), changed, attempts=_ATTEMPTS, pk=pk)


def _one_day(day: str, **counts: int) -> Deltas:
    return {day: {f"counts.{name}": amount for name, amount in counts.items()}}


# --- the conversation's state: its active days, and the changes decided but not yet applied everywhere ---

def _new_state(conversation: dict[str, Any]) -> dict[str, Any]:
    return {"id": conversation["id"], "memberId": conversation.get("memberId"),
            "storeId": conversation.get("storeId"), "startedAt": conversation["startedAt"],
            "requestedAt": conversation.get("requestedAt"), "days": {}, "dialogueDays": {},
            "dialogueCounted": False, "counted": [], "pending": {}}


def _neighbours(days: Mapping[str, Any], day: str) -> tuple[str | None, str]:
    """The active day before `day` (None) and the one after it (NONE)."""
    before = max((d for d in days if d < day), default=None)
    after = min((d for d in days if d > day), default=NONE)
    return before, after


def _message_deltas(state: dict[str, Any], conversation: dict[str, Any], at: str, author_kind: str) -> Deltas:
    """What one message changes in the counters; updates `state`'s days as it goes."""
    deltas: Deltas = defaultdict(lambda: defaultdict(int))
    day = day_of(at)
    deltas[day]["counts.messages"] += 1
    deltas[day][f"counts.{author_kind}Messages"] += 1
    days = state["days"]
    if day not in days:
        before, after = _neighbours(days, day)
        deltas[day][f"active.{after}"] += 1
        if before is not None:  # the earlier day's conversation is now followed by this day
            deltas[before][f"active.{after}"] -= 1
            deltas[before][f"active.{day}"] += 1
        days[day] = at
    else:
        days[day] = max(days[day], at)
    dialogue_at = conversation.get("dialogueAt")
    if dialogue_at is None or parse_instant(at) < parse_instant(dialogue_at):
        return deltas
    start = state["startedAt"]
    if not state["dialogueCounted"]:
        established = day_of(dialogue_at)
        deltas[established]["counts.dialogues"] += 1
        deltas[established]["counts.establishMs"] += millis(dialogue_at, start)
        if state.get("requestedAt"):
            deltas[established]["counts.conversions"] += 1
            deltas[established]["counts.conversionMs"] += millis(dialogue_at, state["requestedAt"])
        state["dialogueCounted"] = True
    spoken = state["dialogueDays"]
    if day not in spoken:
        before, after = _neighbours(spoken, day)
        deltas[day][f"dialogueActive.{after}.n"] += 1
        deltas[day][f"dialogueActive.{after}.ms"] += millis(at, start)
        if before is not None:
            held = millis(spoken[before], start)
            deltas[before][f"dialogueActive.{after}.n"] -= 1
            deltas[before][f"dialogueActive.{after}.ms"] -= held
            deltas[before][f"dialogueActive.{day}.n"] += 1
            deltas[before][f"dialogueActive.{day}.ms"] += held
        spoken[day] = at
    elif parse_instant(at) > parse_instant(spoken[day]):
        _, after = _neighbours(spoken, day)
        deltas[day][f"dialogueActive.{after}.ms"] += millis(at, spoken[day])
        spoken[day] = at
    return deltas


def _trim(days: dict[str, str]) -> dict[str, str]:
    return dict(sorted(days.items())[-DAYS_KEPT:])


def _flush(store: BrandStore, conversation_id: str) -> None:
    """Apply every pending change of a conversation's state to the counters, then drop them from it."""
    state = store.get(STATE, conversation_id)
    scopes = _scopes(state.get("memberId"), state.get("storeId"))
    for change, deltas in state["pending"].items():
        apply(store=store, scopes=scopes, change=change, deltas=deltas)
    applied = set(state["pending"])

    def drop(doc: dict[str, Any] | None) -> dict[str, Any] | None:
        if doc is None or not applied & set(doc["pending"]):
            return None
        return {**doc, "pending": {key: value for key, value in doc["pending"].items() if key not in applied}}

    update_document(store, STATE, conversation_id, drop, attempts=_ATTEMPTS)


def _state_of(store: BrandStore, conversation: dict[str, Any]) -> dict[str, Any]:
    def made(doc: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if doc is not None else _new_state(conversation)

    update_document(store, STATE, conversation["id"], made, attempts=_ATTEMPTS)
    return store.get(STATE, conversation["id"])


def _counted(conversation: dict[str, Any]) -> bool:
    """Metrics are of conversations between a member and a visitor (not the members' community chat)."""
    return conversation.get("kind") != "community" and bool(conversation.get("memberId"))


# --- what the handlers do (shared/conversations/handlers.py; docs/events.md) ---

def count_message(*, platform: Platform, event: MessagePosted) -> None:
    """A message: its day's counts, the conversation's active day, and the dialogue once established."""
    store = platform.store.for_brand(event.brand_id)
    conversation = store.find(CONVERSATIONS, event.conversation_id)
    if conversation is None or not _counted(conversation):
        return
    _state_of(store, conversation)
    at, kind = isoformat(event.occurred_at), event.author.partition(":")[0]

    def decide() -> None:
        state = store.get(STATE, conversation["id"])
        if event.message_id in state["counted"]:
            return
        # The conversation as it is now: its dialogue instant is written with the message, before this event.
        current = store.get(CONVERSATIONS, conversation["id"])
        changed = {**state, "days": dict(state["days"]), "dialogueDays": dict(state["dialogueDays"])}
        deltas = _message_deltas(changed, current, at, kind)
        if event.kind == "rating" and event.score:  # the visitor rated the member
            deltas[day_of(at)]["counts.ratings"] += 1
            deltas[day_of(at)]["counts.ratingPoints"] += event.score
        changed.update(days=_trim(changed["days"]), dialogueDays=_trim(changed["dialogueDays"]),
                       counted=[*state["counted"], event.message_id][-COUNTED_MEMORY:],
                       pending={**state["pending"], event.message_id: {d: dict(v) for d, v in deltas.items()}})
        store.replace(STATE, changed, etag=state["_etag"])

    retrying(decide, attempts=_ATTEMPTS)
    _flush(store, conversation["id"])


def count_started(*, platform: Platform, event: ConversationStarted) -> None:
    """A new conversation on its start day; a handled request and its handling time (waiting list only)."""
    store = platform.store.for_brand(event.brand_id)
    conversation = store.find(CONVERSATIONS, event.conversation_id)
    if conversation is None or not _counted(conversation):
        return
    state = _state_of(store, conversation)
    day = day_of(event.started_at)
    counts: dict[str, int] = {"started": 1, f"started_{event.kind}": 1}
    if event.kind in ("direct", "hook"):  # requested and handled at once (the glossary's direct request)
        counts.update({"requests": 1, f"requests_{event.kind}": 1})
    if event.requested_at is not None:
        counts.update({"handled": 1, f"handled_{event.kind}": 1})
    if event.kind == "waiting_list" and event.requested_at is not None:
        counts["handlingMs"] = millis(event.started_at, event.requested_at)
    apply(store=store, scopes=_scopes(state.get("memberId"), state.get("storeId")), change=event.id,
          deltas=_one_day(day, **counts))


def count_joined(*, platform: Platform, event: WaitingRequestJoined) -> None:
    """A visitor's waiting-list request (the brand's: no member has it yet)."""
    apply(store=platform.store.for_brand(event.brand_id), scopes=_scopes(None, None), change=event.id,
          deltas=_one_day(day_of(event.occurred_at), requests=1, requests_waiting_list=1))


def count_left(*, platform: Platform, event: WaitingRequestLeft) -> None:
    """A waiting-list request the visitor cancelled (a pick-up counts with its conversation's start)."""
    if event.state != "cancelled":
        return
    apply(store=platform.store.for_brand(event.brand_id), scopes=_scopes(None, None), change=event.id,
          deltas=_one_day(day_of(event.occurred_at), cancelled=1))


def count_abandoned(*, platform: Platform, event: WaitingRequestAbandoned) -> None:
    """A request nobody handled in time, on the day it was abandoned."""
    apply(store=platform.store.for_brand(event.brand_id), scopes=_scopes(None, None), change=event.id,
          deltas=_one_day(day_of(event.abandoned_at), abandoned=1))
