"""GDPR article 18, restriction of processing: the one place that says whose data is restricted.

A restricted person's data is kept but not processed until the restriction is lifted
(docs/decisions/0024-restriction-and-contacts-rights.md). Where a restriction is written:
- a member or an external user: on their own document, `restriction: {since, requestId}`;
- a contact: the person behind every contact of the brand with one email address (one person may
  be the contact of several members), so one document per keyed email hash in `restrictions`; a
  contact a member enters later with that address is restricted too.

What it means, and who asks here:
- no email: the email pipeline asks `suppresses` at send time, so no sending path can forget it;
  only the emails the person's own action asks for go (`PERSON_REQUESTED_TEMPLATES`);
- no campaign and no invitation (shared.crm.service.may_send);
- out of the brand's contact and member lists, the dashboards' personal views, the directory and
  the names of the warehouse export;
- retention waits (shared.gdpr.retention.runner).

Restricting and lifting are journalled first (shared.gdpr.journal, subject type `restriction`), so a
restored backup restricts again whoever asked after it was taken, and lifts what was lifted since.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from shared.clock import isoformat, parse_instant
from shared.errors import Conflict, NotFound
from shared.gdpr.journal import Journal, Outcome
from shared.gdpr.register import SubjectKind
from shared.identity import repository
from shared.identity.models import ExternalUser, Member, Restriction
from shared.ports.store import BrandStore, DocumentConflict, DocumentNotFound, Filter
from shared.ports.store_retry import retrying
from shared.privacy.hashing import BrandHasher

log = logging.getLogger(__name__)

CONTAINER = "restrictions"
# Emails the person's own action asks for at that moment (article 18(2): processing with their
# consent; article 12(2): the exercise of their rights is facilitated). Everything else waits.
PERSON_REQUESTED_TEMPLATES = frozenset({
    "gdpr_erasure_confirmation", "gdpr_export_ready", "gdpr_restriction_lifted", "contact_rights_link",
    "contact_rights_export_ready", "password_reset", "email_verification", "unsubscription_confirmation",
})
# The contacts container of shared.crm.service (not imported: the CRM imports this module).
_CONTACTS = "contacts"
_ATTEMPTS = 5


def carried(doc: dict[str, Any] | None) -> bool:
    """Whether a stored member or external-user document carries a restriction."""
    return bool(doc and doc.get("restriction"))


def contact_restriction(*, store: BrandStore, email_hash: str | None) -> Restriction | None:
    """The restriction of the person behind an email hash, if any (no hash: no restriction)."""
    doc = store.find(CONTAINER, email_hash) if email_hash else None
    return Restriction.model_validate(doc) if doc else None


def contact_restricted(*, store: BrandStore, email_hash: str | None) -> bool:
    """Whether the contacts with this email hash are restricted."""
    return bool(email_hash) and store.find(CONTAINER, email_hash) is not None


def restricted_email_hashes(*, store: BrandStore) -> frozenset[str]:
    """Every restricted contact address of the brand, as keyed hashes (a handful: read whole)."""
    return frozenset(doc["id"] for doc in store.query_all(CONTAINER, fields=("id",), page_size=500))


def restricted_member_ids(*, store: BrandStore) -> frozenset[str]:
    """Every restricted member of the brand (an indexed query: `restriction.since` is set only when restricted)."""
    docs = store.query_all(repository.MEMBERS, filters=[Filter("restriction.since", ">", "")], fields=("id",),
                           page_size=500)
    return frozenset(doc["id"] for doc in docs)


def member_for_brand(*, store: BrandStore, member_id: str) -> Member:
    """A member as the brand's Manager sees them: a restricted member does not exist for it (404)."""
    member, _ = repository.get_member(store=store, member_id=member_id)
    if member.restriction is not None:
        raise NotFound("Member not found")
    return member


def restricted_document(*, store: BrandStore, container: str, doc: dict[str, Any]) -> bool:
    """Whether a stored member, external user or contact belongs to a restricted person."""
    if container == _CONTACTS:
        return contact_restricted(store=store, email_hash=doc.get("emailHash"))
    return carried(doc)


def address_restricted(*, store: BrandStore, hasher: BrandHasher, email: str) -> bool:
    """Whether an address belongs to a restricted contact or member of the brand.

    External users are never emailed by this service (their email_tmp serves one conversation
    notification, outside it), so their restriction needs no address lookup.
    """
    email_hash = hasher("email", email)
    if contact_restricted(store=store, email_hash=email_hash):
        return True
    owner = repository.owner_of(store=store, kind="email", hashed=email_hash)
    return owner is not None and carried(store.find(repository.MEMBERS, owner))


def suppresses(*, store: BrandStore, hasher: BrandHasher, template: str, to_email: str) -> bool:
    """Whether the email pipeline must not send this email: its recipient restricted processing."""
    return template not in PERSON_REQUESTED_TEMPLATES and address_restricted(store=store, hasher=hasher, email=to_email)


# --- writes ---------------------------------------------------------------------------------------


def current(*, store: BrandStore, subject_kind: SubjectKind, subject_id: str) -> Restriction | None:
    """The person's restriction now (a contact's `subject_id` is their email hash)."""
    if subject_kind == "contact":
        return contact_restriction(store=store, email_hash=subject_id)
    if subject_kind == "member":
        return repository.get_member(store=store, member_id=subject_id)[0].restriction
    return repository.get_visitor(store=store, visitor_id=subject_id)[0].restriction


def _set_on_person(store: BrandStore, subject_kind: SubjectKind, subject_id: str,
                   restriction: Restriction | None) -> bool:
    """Write (or clear) the restriction on a member's or visitor's document; False when already so."""
    container = repository.MEMBERS if subject_kind == "member" else repository.VISITORS

    def attempt() -> bool:
        person: Member | ExternalUser
        if subject_kind == "member":
            person, etag = repository.get_member(store=store, member_id=subject_id)
        else:
            person, etag = repository.get_visitor(store=store, visitor_id=subject_id)
        if (person.restriction is None) == (restriction is None):
            return False  # already restricted (the first request's date stays) or already lifted
        # A whole save, not a patch: a member's directory projection must drop them too.
        repository.save(store=store, container=container,
                        model=person.model_copy(update={"restriction": restriction}), etag=etag)
        return True

    return retrying(attempt, attempts=_ATTEMPTS,
                    exhausted=Conflict("This person's data changed at the same time; try again"))


def _journal(journal: Journal, action: str, subject_kind: SubjectKind, subject_id: str, now: datetime,
             request_id: str | None = None) -> None:
    # The subject's hash as the GDPR register names them (a contact's subject is its email hash already);
    # the time is part of the id: a person can be restricted again after a lift.
    hashed = subject_id if subject_kind == "contact" else journal.hasher(subject_kind, subject_id)
    journal.record(subject_type="restriction", subject_id=subject_id, now=now, hashed=hashed,
                   rule=":".join([action, subject_kind, *([request_id] if request_id else [])]),
                   qualifier=f"{action}-{now.strftime('%Y%m%dT%H%M%SZ')}")


def _contact_document(email_hash: str, since: datetime, request_id: str) -> dict[str, Any]:
    """The `restrictions` document of the person behind a contact address."""
    return {"id": email_hash, "subjectKind": "contact", "since": isoformat(since), "requestId": request_id}


def restrict(*, store: BrandStore, journal: Journal, subject_kind: SubjectKind, subject_id: str, request_id: str,
             now: datetime) -> bool:
    """Restrict processing of the person's data from now, journalled first; False when it already was."""
    if current(store=store, subject_kind=subject_kind, subject_id=subject_id) is not None:
        return False  # the first request's date stays; nothing to journal
    _journal(journal, "restrict", subject_kind, subject_id, now, request_id)
    restriction = Restriction(since=now, request_id=request_id)
    if subject_kind == "contact":
        try:
            store.create(CONTAINER, _contact_document(subject_id, now, request_id))
        except DocumentConflict:
            return False
        changed = True
    else:
        changed = _set_on_person(store, subject_kind, subject_id, restriction)
    if changed:
        log.info("processing restricted for a %s of brand %s (request %s)", subject_kind, store.brand_id, request_id)
    return changed


def lift(*, store: BrandStore, journal: Journal, subject_kind: SubjectKind, subject_id: str, now: datetime) -> bool:
    """Lift the person's restriction, journalled first; False when there was none."""
    if current(store=store, subject_kind=subject_kind, subject_id=subject_id) is None:
        return False
    _journal(journal, "lift", subject_kind, subject_id, now)
    return _lift(store, subject_kind, subject_id)


def _lift(store: BrandStore, subject_kind: SubjectKind, subject_id: str) -> bool:
    if subject_kind == "contact":
        try:
            store.delete(CONTAINER, subject_id)
        except DocumentNotFound:
            return False
        return True
    return _set_on_person(store, subject_kind, subject_id, None)


def replay_entry(journal: Journal, store: BrandStore, brand: Any, entry: dict[str, Any], dry_run: bool) -> Outcome:
    """Restrict or lift again as the journal says, as of the entry's time (journal replay)."""
    action, subject_kind, *request = entry["rule"].split(":", 2)
    kind: SubjectKind = subject_kind  # type: ignore[assignment]
    subject_id = entry["subjectId"]
    try:
        held = current(store=store, subject_kind=kind, subject_id=subject_id)
    except NotFound:
        return "missing"  # the backup predates the member or visitor
    if (held is not None) == (action == "restrict"):
        return "already"
    if not dry_run:
        if action == "restrict":
            at = parse_instant(entry["at"])
            if kind == "contact":
                store.upsert(CONTAINER, _contact_document(subject_id, at, request[0]))
            else:
                _set_on_person(store, kind, subject_id, Restriction(since=at, request_id=request[0]))
        else:
            _lift(store, kind, subject_id)
    return "again"
