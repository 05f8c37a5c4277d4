"""The retention runner's steps on contacts: what a due step of a contact rule (shared.crm.contact_schedule) does.

"Erase" is the guide's "deleted (hashed)", journalled first; "resend" sends the invitation again
(enqueued before it is recorded, under a fixed id); "opt_out" records the unanswered invitation.
"""

from __future__ import annotations

import logging
from typing import Any

from shared.crm import consent, contact_journal, invitations
from shared.crm import service as contacts
from shared.crm.consent import ConsentEvent
from shared.crm.contact_schedule import CONTAINER, home_block
from shared.crm.events import consent_changed
from shared.gdpr.retention.framework import Document, Plan, RetentionRule
from shared.ports.store import EtagMismatch

log = logging.getLogger(__name__)


def act(run: Any, rule: RetentionRule, doc: Document, step_plan: Plan) -> tuple[str, Document]:
    """Do a due step on one contact, recorded in one etag-guarded replace: (outcome, document)."""
    contact, etag = contacts.from_document(doc)
    now, brand, step = run.ctx.now, run.brand, step_plan.step
    if step.action == "erase":
        return _erase(run, rule, contact, etag, doc)
    if step.action == "resend":
        # The report says what happened: "resent" only when the email went out; a contact the invitation
        # may not reach any more (a hard bounce, a block, the black list) is "skipped_blocked", and its
        # schedule goes on to the opt-out all the same.
        sendable = contacts.may_send(store=run.store, contact=contact, purpose="invitation")
        if sendable and not run.ctx.dry_run:
            # Enqueued before it is recorded, under a fixed id: a crash in between sends it once.
            invitations.send(container=run.ctx.container, store=run.store, brand=brand, contact=contact, now=now,
                             ordinal=2)
        invitation = contact.invitation
        if sendable and invitation is not None:
            invitation = invitation.model_copy(update={"resent_at": now})
        updated, block = contact.model_copy(update={"invitation": invitation}), step_plan.block
        outcome = "resent" if sendable else "skipped_blocked"
    else:  # opt_out: the second period ended without accept, decline, bounce or spam
        state = consent.transition(contact.consent, ConsentEvent.INVITATION_UNANSWERED, now)
        updated, outcome = contact.with_consent(state), "opted_out"
        block = home_block(contacts.to_document(updated, brand), brand)
    run.ctx.count(run.id, rule.name, outcome)
    stored = {**contacts.to_document(updated, brand), "retention": block}
    if run.ctx.dry_run:
        run.ctx.plan_entry(run.id, rule.name, contact.id, outcome, step.name)
        return "wait", stored
    contact_journal.record_opt_outs(journal=run.ctx.container.journal(brand.id), before=contact, after=updated, now=now)
    try:
        fresh = run.store.replace(CONTAINER, stored, etag=etag)
    except EtagMismatch:
        return "lost", doc
    run.ctx.container.events.publish(*consent_changed(brand.id, contact, updated,
                                                      cause=ConsentEvent.INVITATION_UNANSWERED, now=now))
    log.info("retention: contact %s of brand %s: %s (%s)", contact.id, brand.id, outcome, rule.name)
    # Any step but the erasure goes on to plan what comes next (a wait).
    return "moved", fresh


def _erase(run: Any, rule: RetentionRule, contact: contacts.Contact, etag: str | None,
           doc: Document) -> tuple[str, Document]:
    """The guide's "deleted (hashed)", journalled first; the runner counts the erasures it is told about."""
    if run.ctx.dry_run:
        run.ctx.plan_entry(run.id, rule.name, contact.id, "erased", "erase")
        return "erased", contacts.erased_document(contacts.erase(contact, run.ctx.now, f"retention:{rule.name}"))
    try:
        fresh = contact_journal.erase_and_store(store=run.store, journal=run.ctx.container.journal(run.id),
                                                contact=contact, etag=etag, now=run.ctx.now,
                                                rule=f"retention:{rule.name}")
    except EtagMismatch:
        return "lost", doc
    log.info("retention: contact %s of brand %s: erased (%s)", contact.id, run.id, rule.name)
    return "erased", fresh
