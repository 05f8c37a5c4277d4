"""Conversation dashboards of the brand, a store and a member, read from the counters only.

A range of days reads one partition (the scope's day documents, one query); never a conversation
or a message, except the two live figures: the ongoing conversations (a message in the past 5
minutes: one indexed range of recent conversations) and the requests just past the brand's time
that the abandonment sweep has not marked yet (at most a minute's worth). See shared/conversations/
metrics.py for how the counters are kept and docs/conversation-metrics.md for each figure.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from shared.clock import isoformat, parse_instant
from shared.conversations import requests
from shared.conversations.conversations import CONVERSATIONS
from shared.conversations.metrics import NONE, STATS, day_of, stats_pk
from shared.identity.models import CamelModel
from shared.ports.store import BrandStore, Filter

ONGOING_WINDOW = timedelta(minutes=5)
MAX_ONGOING = 1000
PAGE = 1000
KINDS = ("waiting_list", "direct", "hook", "in_store", "outbound")


class Duration(CamelModel):
    """An average over `count` cases, in seconds (to the millisecond); null when there is none."""

    count: int = 0
    average_seconds: float | None = Field(None, description="Total / count, in seconds")
    total_seconds: float = 0.0


class Ratings(CamelModel):
    """The visitors' ratings of members (1 to 5)."""

    count: int = 0
    average: float | None = None


class Figures(CamelModel):
    """A day's or a period's figures, in the glossary's words."""

    requests: int = Field(0, description="Conversation requests made (waiting list, direct, hook)")
    requests_by_kind: dict[str, int] = Field(default_factory=dict)
    handled: int = Field(0, description="Requests handled (a waiting-list pick-up; a direct or hook request at once)")
    cancelled: int = Field(0, description="Waiting-list requests the visitor cancelled")
    abandoned: int = Field(0, description="Waiting-list requests nobody handled within the brand's time")
    new_conversations: int = Field(0, description="Conversations started in the period")
    new_conversations_by_kind: dict[str, int] = Field(default_factory=dict)
    active_conversations: int = Field(0, description="Conversations with at least one message in the period")
    new_dialogues: int = Field(0, description="Dialogues established in the period (both parties wrote)")
    active_dialogues: int = Field(0, description="Dialogues with at least one message in the period")
    messages: int = 0
    member_messages: int = 0
    visitor_messages: int = 0
    handling_time: Duration = Field(default_factory=Duration,
                                    description="Waiting-list request to its pick-up, of requests handled in the "
                                                "period")
    time_to_dialogue: Duration = Field(default_factory=Duration,
                                       description="Conversation start to the dialogue, of dialogues established in "
                                                   "the period")
    total_dialogue_conversion_time: Duration = Field(
        default_factory=Duration, description="The visitor's request to the dialogue (conversations with a request)")
    dialogue_duration: Duration = Field(default_factory=Duration,
                                        description="Conversation start to its last message in the period, of the "
                                                    "period's active dialogues")
    ratings: Ratings = Field(default_factory=Ratings, description="Ratings visitors gave in the period")


class Day(Figures):
    day: str


class ConversationDashboard(CamelModel):
    scope: str = Field(description="brand, store or member")
    scope_id: str | None = None
    start: str = Field(alias="from")
    end: str = Field(alias="to")
    ongoing: int = Field(description="Conversations with a message in the past 5 minutes (now)")
    totals: Figures
    days: list[Day]


def _duration(count: int, ms: int) -> Duration:
    return Duration(count=count, total_seconds=ms / 1000, average_seconds=round(ms / count / 1000, 3) if count
                    else None)


def _figures(counts: dict[str, int], *, active: int, dialogues: int, dialogue_ms: int, abandoned: int) -> dict:
    return {
        "requests": counts.get("requests", 0), "handled": counts.get("handled", 0),
        "requests_by_kind": {kind: counts[f"requests_{kind}"] for kind in KINDS if counts.get(f"requests_{kind}")},
        "cancelled": counts.get("cancelled", 0), "abandoned": counts.get("abandoned", 0) + abandoned,
        "new_conversations": counts.get("started", 0),
        "new_conversations_by_kind": {kind: counts[f"started_{kind}"] for kind in KINDS
                                      if counts.get(f"started_{kind}")},
        "active_conversations": active, "new_dialogues": counts.get("dialogues", 0), "active_dialogues": dialogues,
        "messages": counts.get("messages", 0), "member_messages": counts.get("memberMessages", 0),
        "visitor_messages": counts.get("visitorMessages", 0),
        "handling_time": _duration(counts.get("handled_waiting_list", 0), counts.get("handlingMs", 0)),
        "time_to_dialogue": _duration(counts.get("dialogues", 0), counts.get("establishMs", 0)),
        "total_dialogue_conversion_time": _duration(counts.get("conversions", 0), counts.get("conversionMs", 0)),
        "dialogue_duration": _duration(dialogues, dialogue_ms),
        "ratings": Ratings(count=counts.get("ratings", 0),
                           average=round(counts["ratingPoints"] / counts["ratings"], 2) if counts.get("ratings")
                           else None),
    }


def _days(store: BrandStore, scope: str, scope_id: str, start: str, end: str) -> list[dict[str, Any]]:
    pk = stats_pk(store.brand_id, scope, scope_id)
    return store.query_all(STATS, pk=pk, filters=[Filter("day", ">=", start), Filter("day", "<=", end)],
                           order_by="day", page_size=PAGE, fields=("day", "counts", "active", "dialogueActive"))


def _ongoing(store: BrandStore, scope: str, scope_id: str, now: datetime) -> int:
    filters = [Filter("lastMessageAt", ">=", isoformat(now - ONGOING_WINDOW))]
    if scope != "brand":
        filters.insert(0, Filter("memberId" if scope == "member" else "storeId", "=", scope_id))
    found = store.query_all(CONVERSATIONS, filters=filters, page_size=MAX_ONGOING, fields=("kind",))
    return sum(1 for doc in found if doc.get("kind") != "community")


def _unswept(store: BrandStore, now: datetime, abandon_minutes: int) -> dict[str, int]:
    """Requests abandoned by now that the sweep has not marked yet, by the day they were abandoned."""
    by_day: dict[str, int] = {}
    for doc in requests.overdue(store=store, now=now, abandon_minutes=abandon_minutes):
        day = day_of(parse_instant(doc["createdAt"]) + timedelta(minutes=abandon_minutes))
        by_day[day] = by_day.get(day, 0) + 1
    return by_day


def dashboard(*, store: BrandStore, scope: str, scope_id: str, start: str, end: str, now: datetime,
              abandon_minutes: int) -> ConversationDashboard:
    """The scope's figures for each day of [start, end] and for the whole period (active ones counted once)."""
    unswept = _unswept(store, now, abandon_minutes) if scope == "brand" else {}
    totals: dict[str, int] = {}
    active = dialogues = dialogue_ms = 0
    by_day: dict[str, Day] = {}
    for doc in _days(store, scope, scope_id or "", start, end):
        counts = doc.get("counts", {})
        for name, amount in counts.items():
            totals[name] = totals.get(name, 0) + amount
        spoken = doc.get("dialogueActive", {})
        # Counted in the period's total only at its last active day in the period.
        active += sum(n for after, n in doc.get("active", {}).items() if after == NONE or after > end)
        last_spoken = [value for after, value in spoken.items() if after == NONE or after > end]
        dialogues += sum(value.get("n", 0) for value in last_spoken)
        dialogue_ms += sum(value.get("ms", 0) for value in last_spoken)
        by_day[doc["day"]] = Day(day=doc["day"], **_figures(
            counts, active=sum(doc.get("active", {}).values()),
            dialogues=sum(value.get("n", 0) for value in spoken.values()),
            dialogue_ms=sum(value.get("ms", 0) for value in spoken.values()), abandoned=unswept.get(doc["day"], 0)))
    late = {day: n for day, n in unswept.items() if start <= day <= end}
    for day, n in late.items():
        by_day.setdefault(day, Day(day=day, **_figures({}, active=0, dialogues=0, dialogue_ms=0, abandoned=n)))
    figures = Figures(**_figures(totals, active=active, dialogues=dialogues, dialogue_ms=dialogue_ms,
                                 abandoned=sum(late.values())))
    return ConversationDashboard(scope=scope, scope_id=scope_id or None, start=start, end=end,
                                 ongoing=_ongoing(store, scope, scope_id, now), totals=figures,
                                 days=[by_day[day] for day in sorted(by_day)])
