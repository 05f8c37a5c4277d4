"""The retention framework: a rule is a declaration, and one pure function plans a document's next move.

A rule names its family (which timer runs it), its container, which documents it applies to
(`Select`), where its schedule counts from (`base`) and its steps (`Step`: warn or erase, each
due at `base + offset`, never sooner than `gap` after the previous step was done). A document
carries its next step in the `retention` block:

    {"rule": "member_inactive", "step": "warning_2", "dueAt": "...", "since": "...", "prevAt": "..."}

`dueAt` is indexed: a run reads only documents whose `dueAt` has passed. `since` is the base the
schedule was computed from: when the document's base moved (a login moved `lastActivityAt`),
the schedule starts again from the new base, which cancels the pending steps. `plan` is pure: the
runner loads, plans, acts and records the next step in the same etag-guarded replace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from shared.brands.models import RetentionSettings
from shared.clock import isoformat, parse_instant

Document = dict[str, Any]
Action = Literal["warn", "erase"]
Family = Literal["members", "external_users", "brands", "contacts"]

FAMILIES: tuple[Family, ...] = ("members", "external_users", "brands", "contacts")
# The step a brand-less writer (repository.to_document) leaves: "compute the real step with the
# brand's settings at the next run".
SCHEDULE = "schedule"
# An erasure in progress: claimed by one run until `leaseUntil`, resumed by a later run after it.
ERASING = "erasing"
# A step done within this long after its due date counts as done on time (the timers run daily):
# the next step keeps its nominal date, so replaying a reset schedule finds the same message ids.
ON_TIME = timedelta(days=1)


@dataclass(frozen=True)
class Select:
    """Which documents a rule applies to: a status filter, optionally a role filter."""

    statuses: frozenset[str]
    roles: frozenset[int] | None = None

    def matches(self, doc: Document) -> bool:
        """Whether a stored document is one this rule applies to."""
        if doc.get("status") not in self.statuses:
            return False
        return self.roles is None or int(doc.get("role", -1)) in self.roles


@dataclass(frozen=True)
class Step:
    """One retention step: what to do (`action`) and when (`base + offset(settings)`)."""

    name: str
    action: Action
    offset: Callable[[RetentionSettings], timedelta]
    # At least this long after the previous step was done ("two emails, every 15 days").
    gap: timedelta = timedelta(0)
    template: str | None = None


@dataclass(frozen=True)
class RetentionRule:
    """A retention rule as a declaration: which documents, when, what, and what comes next.

    `due(doc, settings, step)` is when a step falls due, `action(step)` what it does and
    `next(step)` what follows it (None: the document leaves retention once erased).
    `index` is the indexed path a run reads due documents by: `retention.dueAt` for rules that
    keep their own schedule; a rule whose only step is one brand duration after a base field
    that is itself indexed (external users' `lastInteractionAt`) reads that field's range.
    """

    name: str
    family: Family
    container: str
    select: Select
    base: Callable[[Document], datetime | None]
    steps: tuple[Step, ...]
    index: str = "retention.dueAt"
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def step(self, name: str | None) -> Step | None:
        """The step of that name, or None."""
        return next((step for step in self.steps if step.name == name), None)

    def next(self, step: Step) -> Step | None:
        """The step after `step`, or None after the last one."""
        index = self.steps.index(step)
        return self.steps[index + 1] if index + 1 < len(self.steps) else None

    def action(self, step: Step) -> Action:
        """What the step does."""
        return step.action

    def nominal(self, base: datetime, settings: RetentionSettings, step: Step) -> datetime:
        """The step's due date from the base and the brand's durations alone."""
        return base + step.offset(settings)

    def due(self, doc: Document, settings: RetentionSettings, step: Step) -> datetime | None:
        """When `step` falls due for this document (no previous step considered)."""
        base = self.base(doc)
        return None if base is None else self.nominal(base, settings, step)

    def cutoff(self, now: datetime, settings: RetentionSettings) -> datetime:
        """For base-indexed rules: a document is due when its base is at or before this instant."""
        return now - self.steps[0].offset(settings)


def message_id(rule: str, doc_id: str, step: str, due_at: str) -> str:
    """The deterministic message id of a warning: the bus and the email log drop a second send."""
    return f"retention:{rule}:{doc_id}:{step}:{due_at}"


@dataclass(frozen=True)
class Plan:
    """What to do with one document now.

    kind: "act" (do `step` now, then store `block`), "reschedule" (store `block`, nothing sent),
    "wait" (nothing to do yet), "cancel" (the document left the rule: store `block`).
    """

    kind: Literal["act", "reschedule", "wait", "cancel"]
    block: Document
    step: Step | None = None
    due_at: datetime | None = None
    message_id: str | None = None


def _at(value: Any) -> datetime | None:
    return parse_instant(value) if isinstance(value, str) and value else None


def block_for(rule: RetentionRule, step: Step, *, since: datetime, due: datetime,
              prev_at: datetime | None) -> Document:
    """The retention block scheduling `step` of `rule`."""
    block: Document = {"rule": rule.name, "step": step.name, "dueAt": isoformat(due), "since": isoformat(since)}
    if prev_at is not None:
        block["prevAt"] = isoformat(prev_at)
    return block


def _effective_due(rule: RetentionRule, step: Step, base: datetime, settings: RetentionSettings,
                   prev_at: datetime | None) -> datetime:
    due = rule.nominal(base, settings, step)
    if prev_at is not None:
        due = max(due, prev_at + step.gap)
    return due


def plan(rule: RetentionRule, doc: Document, settings: RetentionSettings, now: datetime, *,
         sent: Callable[[str], bool] = lambda _id: False) -> Plan:
    """The next move for one document under `rule` at `now` (pure but for the `sent` look-up).

    `sent(message_id)` says whether a warning was already sent (the email log): it is asked only
    when a schedule starts again past a warning's date, so a schedule reset by a save finds the
    warnings it had sent at their nominal dates and does not send them twice.
    """
    block: Document = doc.get("retention") or {}
    base = rule.base(doc)
    if base is None or not rule.select.matches(doc):
        return Plan("cancel", {})
    since = isoformat(base)
    current = rule.step(block.get("step")) if block.get("rule") == rule.name else None
    if block.get("rule") == rule.name and block.get("step") is None and block.get("since") is None:
        current = rule.steps[0]  # a brand-less block ({"dueAt", "rule"}): its first step, as dated
    if current is not None and block.get("since") not in (None, since):
        current = None  # the base moved (activity): start again, which cancels pending steps

    prev_at = _at(block.get("prevAt")) if current is not None else None
    if current is None:
        current = rule.steps[0]
        # Resume a schedule that was reset (by a save) after warnings went out at their nominal dates.
        while current.action == "warn":
            nominal = _effective_due(rule, current, base, settings, prev_at)
            if nominal > now or not sent(message_id(rule.name, doc["id"], current.name, isoformat(nominal))):
                break
            following = rule.next(current)
            if following is None:
                break
            prev_at, current = nominal, following

    due = _effective_due(rule, current, base, settings, prev_at)
    scheduled = block_for(rule, current, since=base, due=due, prev_at=prev_at)
    if due > now:
        return Plan("wait" if _same(block, scheduled) else "reschedule", scheduled, current, due)
    if current.action == "warn" and not _same(block, scheduled):
        # A warning's message id names the stored step and date: store them before sending.
        return Plan("reschedule", scheduled, current, due)

    done_at = due if now - due <= ON_TIME else now
    following = rule.next(current)
    after: Document = {}
    if following is not None:
        after = block_for(rule, following, since=base,
                          due=_effective_due(rule, following, base, settings, done_at), prev_at=done_at)
    return Plan("act", after, current, due, message_id(rule.name, doc["id"], current.name, isoformat(due)))


def _same(block: Document, scheduled: Document) -> bool:
    keys = ("rule", "step", "dueAt", "since")
    return all(block.get(key) == scheduled.get(key) for key in keys)


def erasing_block(block: Document, rule: str, now: datetime, lease: timedelta) -> Document:
    """The block of a claimed erasure: due (so a crashed erasure is found again), leased to one run."""
    return {**{k: v for k, v in block.items() if k in ("since", "prevAt")}, "rule": rule, "step": ERASING,
            "dueAt": isoformat(now), "leaseUntil": isoformat(now + lease)}


def lease_held(block: Document, now: datetime) -> bool:
    """Whether another run holds this erasure right now."""
    until = _at(block.get("leaseUntil"))
    return block.get("step") == ERASING and until is not None and until > now
