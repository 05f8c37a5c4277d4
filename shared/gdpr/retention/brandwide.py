"""Brand-wide retention: the end of a brand's contract and a programme suspension.

Driven by the brand document itself: its status and `statusChangedAt` give the due date of the
brand's erasure (`rules.BRAND_RULES`), checked once per brand and run; nothing is written on the
members until it is due, so setting the brand active again before then is the whole rollback.
A suspension first warns the active members once.

Once due, all the brand's personal data goes, whichever of the two rules it is (guide: "all
personal data (Users and Contacts)"; names of roles 1-6 are kept only "as long as the Brand has an
active platform"): every member and external user not yet erased; the names of members of roles
1-6 erased earlier (unsubscribed, end of contract), which kept them; every contact left, those a
member's erasure kept for their brand opt-in included; the brand's Manager users (the guide counts
them among the users). The store handle is the brand's: no one else is touched, platform operators
included.

Resumable and idempotent: erased documents leave the "not erased" queries, so a crashed sweep
resumes where it stopped and a finished one reads nothing more; erased members with names are not
a query the store can answer, so that pass (like the suspension notice) keeps its place in a
progress document of `retention_runs` after each page, and is done once per status change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from shared.clock import isoformat
from shared.crm import contact_journal
from shared.crm import service as contacts
from shared.gdpr.retention import notices
from shared.gdpr.retention.rules import BRAND_RULES, PROGRAMME_SUSPENSION, SUSPENSION_TEMPLATE
from shared.gdpr.retention.runner import PAGE_SIZE, RUNS, BrandRun, erase
from shared.identity import lifecycle, manager_users, repository
from shared.identity.models import Role
from shared.ports.store import Filter
from shared.ports.store_retry import retrying

log = logging.getLogger(__name__)

NOT_ERASED = (Filter("status", "!=", "erased"),)
# Erased members who may still hold names: only roles 1-6 keep them when erased (shared.gdpr.erasure).
ERASED_UNDER_CONTRACT = (Filter("status", "=", "erased"), Filter("role", ">=", int(Role.EMPLOYEE)),
                         Filter("role", "<=", int(Role.EXPERT)))
NAMES = ("firstName", "lastName", "alias")
_ATTEMPTS = 3


def run_brand(*, run: BrandRun) -> None:
    """Apply the brand-wide rule of this brand's status, if any."""
    brand = run.brand
    if brand.status not in BRAND_RULES or brand.status_changed_at is None:
        return
    rule, due_of = BRAND_RULES[brand.status]
    due = due_of(brand.status_changed_at, brand.retention)
    run.ctx.count(run.id, rule, "read", 0)
    if rule == PROGRAMME_SUSPENSION and run.ctx.now < due:
        warn_suspension(run=run, erase_on=due)
    if run.ctx.now >= due:
        erase_brand(run=run, rule=rule)


def erase_brand(*, run: BrandRun, rule: str) -> None:
    """Erase all the brand's personal data: members, their kept names, external users, contacts."""
    # Members first: each member's erasure takes their contacts along; the contact sweep takes what is left.
    sweep(run=run, container=repository.MEMBERS, rule=rule)
    erase_kept_names(run=run, rule=rule)
    sweep(run=run, container=repository.VISITORS, rule=rule)
    sweep_contacts(run=run, rule=rule)
    sweep_manager_users(run=run, rule=rule)


def _pages(run: BrandRun, container: str, filters, continuation: str | None = None):
    """(page items, continuation after it), page by page from `continuation`."""
    while True:
        page = run.store.query(container, filters=list(filters), page_size=PAGE_SIZE, continuation=continuation)
        continuation = page.continuation
        yield page.items, continuation
        if continuation is None:
            return


def _erase_subject(run: BrandRun, container: str, doc: dict[str, Any], rule: str,
                   done: Callable[[dict[str, Any]], bool]) -> str:
    """Erase one member or external user (reloading after a lost race): the outcome, counted."""
    run.ctx.count(run.id, rule, "read")
    outcome = "lost"
    for _ in range(_ATTEMPTS):
        try:
            outcome = erase(run=run, container=container, doc=doc, rule=rule)
        except Exception as exc:
            log.warning("retention: %s %s of brand %s failed (%s)", container, doc["id"], run.id, type(exc).__name__)
            outcome = "failed"
        if outcome != "lost":
            break
        doc = run.store.find(container, doc["id"])
        if doc is None or done(doc):
            outcome = "erased"
            break
    outcome = "failed" if outcome == "lost" else outcome
    run.ctx.count(run.id, rule, outcome)
    return outcome


def _is_erased(doc: dict[str, Any]) -> bool:
    return doc.get("status") == "erased"


def sweep(*, run: BrandRun, container: str, rule: str) -> None:
    """Erase every not-yet-erased member or external user of the brand."""
    for items, _ in _pages(run, container, NOT_ERASED):
        for doc in items:
            _erase_subject(run, container, doc, rule, _is_erased)


def _names_gone(doc: dict[str, Any]) -> bool:
    return _is_erased(doc) and not any(doc.get(name) for name in NAMES)


def erase_kept_names(*, run: BrandRun, rule: str) -> None:
    """Erase again, fully, the members of roles 1-6 an earlier erasure left their names (once per status change)."""

    def visit(doc: dict[str, Any]) -> bool:
        if _names_gone(doc):
            return True
        return _erase_subject(run, repository.MEMBERS, doc, rule, _names_gone) == "erased"

    _resumable_pass(run, f"brand-erasure-names-{rule}", repository.MEMBERS, ERASED_UNDER_CONTRACT, visit)


def _sweep_all(run: BrandRun, container: str, rule: str, erased: str,
               erase_one: Callable[[dict[str, Any]], bool]) -> None:
    """Erase every document of `container` not yet erased, one by one; each counted as `erased` or failed."""
    for items, _ in _pages(run, container, NOT_ERASED):
        for doc in items:
            run.ctx.count(run.id, rule, "read")
            if run.ctx.dry_run:
                run.ctx.plan_entry(run.id, rule, doc["id"], "erase")
                continue
            try:
                done = erase_one(doc)
            except Exception as exc:
                log.warning("retention: %s %s of brand %s failed (%s)", container, doc["id"], run.id,
                            type(exc).__name__)
                done = False
            run.ctx.count(run.id, rule, erased if done else "failed")


def sweep_contacts(*, run: BrandRun, rule: str) -> None:
    """Erase (hash) every contact of the brand not yet erased, whatever its opt-ins."""
    _sweep_all(run, contacts.CONTACTS, rule, "contacts_erased", lambda doc: erase_contact(run=run, doc=doc, rule=rule))


def sweep_manager_users(*, run: BrandRun, rule: str) -> None:
    """Erase every Manager user of the brand not yet erased (journalled, as members are)."""
    def erase_one(doc: dict[str, Any]) -> bool:
        manager_users.erase(store=run.store, journal=run.ctx.container.journal(run.id), user_id=doc["id"],
                            now=run.ctx.now, rule=rule)
        return True

    _sweep_all(run, repository.MANAGER_USERS, rule, "manager_users_erased", erase_one)


def erase_contact(*, run: BrandRun, doc: dict[str, Any], rule: str) -> bool:
    """The brand-wide rules' one contact erasure (journalled, etag-guarded); False when it kept changing."""
    unread = [doc]  # the first attempt erases the document the sweep read; a lost race reads it again

    def attempt() -> bool:
        current = unread.pop() if unread else run.store.find(contacts.CONTACTS, doc["id"])
        if current is None:
            return True  # gone meanwhile: nothing left to erase
        contact, etag = contacts.from_document(current)
        contact_journal.erase_and_store(store=run.store, journal=run.ctx.container.journal(run.id),
                                        contact=contact, etag=etag, now=run.ctx.now, rule=f"retention:{rule}")
        if contact.status != "erased":
            log.info("retention: contact %s of brand %s erased (%s)", contact.id, run.id, rule)
        return True

    return retrying(attempt, attempts=_ATTEMPTS,
                    exhausted=lambda: run.store.find(contacts.CONTACTS, doc["id"]) is None)


def _resumable_pass(run: BrandRun, name: str, container: str, filters, visit: Callable[[dict[str, Any]], bool]) -> None:
    """Visit every document a query selects once per brand status change, keeping the place after each page.

    The progress document (`retention_runs`, `<name>-<statusChangedAt>`) holds the continuation: a
    crashed pass resumes at its page, a finished one is not redone. A visit answering False (a
    failure) makes the pass start over at the next run instead of being done.
    """
    changed = isoformat(run.brand.status_changed_at)
    progress_id = f"{name}-{changed}"
    progress = run.store.find(RUNS, progress_id) or {"id": progress_id, "kind": name, "statusChangedAt": changed,
                                                     "done": False}
    if progress.get("done"):
        return
    retry = bool(progress.get("retry"))
    for items, continuation in _pages(run, container, filters, progress.get("continuation")):
        for doc in items:
            retry = not visit(doc) or retry
        if run.ctx.dry_run:
            continue
        finished = continuation is None
        progress = {**{k: v for k, v in progress.items() if not k.startswith("_")}, "continuation": continuation,
                    "retry": retry and not finished, "done": finished and not retry}
        run.store.upsert(RUNS, progress)


def warn_suspension(*, run: BrandRun, erase_on) -> None:
    """Email every active member once that the programme is suspended and when their data goes."""
    ctx = run.ctx
    changed = isoformat(run.brand.status_changed_at)

    def visit(doc: dict[str, Any]) -> bool:
        ctx.count(run.id, PROGRAMME_SUSPENSION, "read")
        if not notices.reachable(doc):
            ctx.count(run.id, PROGRAMME_SUSPENSION, "unreachable")
            return True
        message_id = f"retention:{PROGRAMME_SUSPENSION}:{doc['id']}:notice:{changed}"
        if ctx.dry_run:
            ctx.plan_entry(run.id, PROGRAMME_SUSPENSION, doc["id"], "warn", "notice")
        else:
            # Sign-ins are refused while suspended: the notice carries the member's way out (until the cap).
            # A resend after a crash makes a second token; the bus drops the second email, the token expires.
            token = lifecycle.leave_link_token(store=run.store, member_id=doc["id"], now=ctx.now, until=erase_on)
            notices.send(enqueue=ctx.enqueue, bus=ctx.container.bus, settings=ctx.container.settings,
                         brand=run.brand, doc=doc, template=SUSPENSION_TEMPLATE, erase_on=erase_on,
                         message_id=message_id,
                         extra={"leave_url": notices.leave_url(ctx.container.settings, run.brand, token)})
        ctx.count(run.id, PROGRAMME_SUSPENSION, "warned")
        return True

    _resumable_pass(run, "suspension-notice", repository.MEMBERS, (Filter("status", "=", "active"),), visit)
