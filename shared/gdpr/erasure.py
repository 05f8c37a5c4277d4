"""Erasure of a member or an external user, field by field, exactly as the Data Protection Guide v4 says.

Soft deletes only: the document stays, with status "erased", so statistics keep their counts
(role, creation date, city and postal code, birth year, counters). What the person is known by
is erased or replaced by its keyed hash. Each field's fate is one line of `MEMBER_FIELDS` or
`VISITOR_FIELDS`; a test holds those tables equal to the models, so a field added later cannot
escape erasure unclassified. docs/erasure-rules.md is the same table in prose.

Around the document: sessions are revoked, pending single-use links and the subject's activity
records deleted, the profile photo file and any other file under the member's folder deleted,
the unique keys given back (the person may sign up again, as a new member), and every content
eraser registered by a feature runs (UGC, comments...), except for content a contest's own terms
keep. Every erasure is written to the erasure journal first (shared.gdpr.journal), so a restored
backup can be erased again. Erasing twice changes nothing and journals nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from shared.brands.models import Brand
from shared.clock import parse_instant
from shared.errors import Conflict, NotFound
from shared.events.model import Publisher
from shared.gdpr import journal
from shared.identity import action_tokens, repository, sessions
from shared.identity import events as member_events
from shared.identity.activity import CONTAINER as ACTIVITY_LOG
from shared.identity.models import Address, ExternalUser, Member, Role
from shared.identity.sso import SSO_KEY
from shared.identity.visitors import CLIENT_KEY
from shared.ports.blobs import CONTAINER_UGC, BlobStore
from shared.ports.store import BrandStore, DocumentNotFound, Filter
from shared.ports.store_retry import retrying
from shared.privacy.hashing import BrandHasher

log = logging.getLogger(__name__)

SubjectType = Literal["member", "visitor"]
Model = TypeVar("Model", bound=BaseModel)

# When the brand's contract with Popsell ends, or its programme stayed suspended past the cap, all its
# personal data goes: the names of people under contract too (the guide keeps them for roles 1-6 only
# "as long as the Brand has an active platform with Popsell") and every contact, brand opt-in or not.
# The retention rules of the same names (shared.gdpr.retention.rules) import them from here.
BRAND_CONTRACT_ENDED = "brand_contract_ended"
PROGRAMME_SUSPENSION = "programme_suspension"
FULL_ERASURE_RULES = frozenset({BRAND_CONTRACT_ENDED, PROGRAMME_SUSPENSION})

# What happens to each field on erasure. "keep": statistics or consent records; "erase": back to
# empty; "erase_public": erased for roles 0, 7, 8, kept for roles 1-6 (people under contract);
# "hash": the clear value goes, its keyed hash stays (in the `*_hash` field); "city_postal_code",
# "year_only", "delete_file", "erased", "offline", "changed_at" are one field each.
FieldRule = Literal["keep", "erase", "erase_public", "hash", "city_postal_code", "year_only", "delete_file",
                    "erased", "offline", "changed_at"]

MEMBER_FIELDS: dict[str, FieldRule] = {
    "id": "keep",
    "role": "keep",
    "status": "erased",
    "created_at": "keep",
    "first_name": "erase_public",
    "last_name": "erase_public",
    "alias": "erase_public",
    "password_hash": "erase",
    "email": "hash",
    "email_hash": "keep",
    "email_verified_at": "keep",
    "customer_id": "hash",
    "customer_id_hash": "keep",
    "social_ids": "hash",
    "social_id_hashes": "keep",
    "address": "city_postal_code",
    "preferred_language": "erase",
    "birth_date": "year_only",
    "birth_year": "keep",
    "popsell_terms": "keep",
    "photo_blob": "delete_file",
    "self_presentation": "erase",
    # Not among what the guide keeps (names of roles 1-6, hashes, city, postal code, birth year):
    # erased for every role, position in the organisation included.
    "position": "erase",
    "home_shop_id": "erase",
    "location": "erase",
    "visibility": "keep",
    "communication": "keep",
    "notifications": "keep",  # push opt-ins, consent states like the communication ones
    "owned_products": "erase",
    "recommended_products": "erase",
    "availability": "offline",
    "availability_until": "erase",
    "sso_subject": "hash",
    "sso_subject_hash": "keep",
    "last_activity_at": "keep",
    "status_changed_at": "changed_at",
    "erasure_due_at": "erase",
    "session_epoch": "keep",  # a counter, no personal data; an erased member has no access anyway
    "restriction": "erase",  # nothing left to restrict: the data it kept is gone
}

VISITOR_FIELDS: dict[str, FieldRule] = {
    "id": "keep",
    "role": "keep",
    "status": "erased",
    "created_at": "keep",
    "widget_policy": "keep",
    "service_terms": "keep",
    "first_name": "erase_public",  # roles 7 and 8 only: always erased
    "email_tmp": "hash",
    "email_tmp_hash": "keep",
    "customer_id_hash": "keep",
    "merged_into": "keep",
    "last_interaction_at": "keep",
    "restriction": "erase",
}

# Where the SSO subject's keyed hash is kept: a document field, until the Member model has its own.
SSO_SUBJECT_HASH = "ssoSubjectHash"
_ATTEMPTS = 5


# --- content erasers: the hook later features (UGC, comments, chats) register into -------------


@dataclass(frozen=True)
class ErasureContext:
    """What a content eraser gets: the subject, its brand handle and adapters, the time and the rule."""

    store: BrandStore
    blobs: BlobStore | None
    hasher: BrandHasher
    subject_type: SubjectType
    subject_id: str
    now: datetime
    rule: str


@dataclass(frozen=True)
class ContentItem:
    """One piece of a subject's content as an eraser finds it; `contest_id` when collected by a contest."""

    id: str
    contest_id: str | None = None


def _never(ctx: ErasureContext, item: ContentItem) -> bool:
    return False


@dataclass(frozen=True)
class ContentEraser:
    """Erases one content type of a subject.

    `find` lists the subject's items, `erase` erases one (idempotently: erasing an erased item is a
    no-op). `keep_for_contest` is asked only for items collected under a contest: True when the
    contest's own terms keep the item for their own usage and duration (the guide's exception),
    in which case the contest's rules delete it later, not this erasure.
    """

    content_type: str
    find: Callable[[ErasureContext], Iterable[ContentItem]]
    erase: Callable[[ErasureContext, ContentItem], None]
    keep_for_contest: Callable[[ErasureContext, ContentItem], bool] = _never
    subject_types: tuple[SubjectType, ...] = ("member",)


_ERASERS: dict[str, ContentEraser] = {}
# Filled by the composition root (popsell.registry) when it is imported, before any entry point
# runs: an erasure run from a timer or the CLI knows the same content types as one from the API.


def register_eraser(eraser: ContentEraser) -> None:
    """Add a content type to every erasure (call at import of the feature module)."""
    if eraser.content_type in _ERASERS and _ERASERS[eraser.content_type] is not eraser:
        raise ValueError(f"a content eraser for {eraser.content_type!r} is already registered")
    _ERASERS[eraser.content_type] = eraser


def unregister_eraser(content_type: str) -> None:
    """Remove a content eraser (tests)."""
    _ERASERS.pop(content_type, None)


def registered_erasers() -> list[ContentEraser]:
    """The content erasers every erasure runs, in registration order."""
    return list(_ERASERS.values())


def _erase_content(ctx: ErasureContext) -> dict[str, dict[str, int]]:
    report: dict[str, dict[str, int]] = {}
    for eraser in registered_erasers():
        if ctx.subject_type not in eraser.subject_types:
            continue
        counts = {"erased": 0, "keptForContest": 0}
        for item in list(eraser.find(ctx)):
            if item.contest_id is not None and eraser.keep_for_contest(ctx, item):
                counts["keptForContest"] += 1
                continue
            eraser.erase(ctx, item)
            counts["erased"] += 1
        report[eraser.content_type] = counts
    return report


# --- the pure field rules -----------------------------------------------------------------------


def names_erased(role: int, rule: str) -> bool:
    """Names go for roles 0, 7, 8; for roles 1-6 only when all the brand's data goes (FULL_ERASURE_RULES)."""
    return not Role(role).under_contract or rule in FULL_ERASURE_RULES


def erased_member(member: Member, *, hasher: BrandHasher, now: datetime, rule: str) -> tuple[Member, str | None]:
    """The member once erased (pure), and the keyed hash of its SSO subject if it had one."""
    social_hashes = dict(member.social_id_hashes)
    for provider, subject in member.social_ids.items():
        social_hashes.setdefault(provider, hasher("social_id", f"{provider}:{subject}"))
    changes: dict[str, Any] = {
        "status": "erased",
        "password_hash": None,
        "email": None,
        "email_hash": member.email_hash or (hasher("email", member.email) if member.email else None),
        "customer_id": None,
        "customer_id_hash": member.customer_id_hash
        or (hasher("customer_id", member.customer_id) if member.customer_id else None),
        "social_ids": {},
        "social_id_hashes": social_hashes,
        "address": Address(city=member.address.city, postal_code=member.address.postal_code),
        "preferred_language": None,
        "birth_date": None,
        "birth_year": member.birth_date.year if member.birth_date else member.birth_year,
        "photo_blob": None,
        "self_presentation": None,
        "position": None,
        "home_shop_id": None,
        "location": None,
        "owned_products": [],
        "recommended_products": [],
        "availability": "offline",
        "availability_until": None,
        "sso_subject": None,
        # Erasing an erased member again must not move its dates: the same document, twice.
        "status_changed_at": member.status_changed_at if member.status == "erased" else now,
        "erasure_due_at": None,
        "restriction": None,
    }
    if names_erased(member.role, rule):
        changes.update(first_name=None, last_name=None, alias=None)
    sso_hash = hasher(SSO_KEY, member.sso_subject) if member.sso_subject else member.sso_subject_hash
    changes["sso_subject_hash"] = sso_hash
    return member.model_copy(update=changes), sso_hash


def erased_visitor(visitor: ExternalUser, *, hasher: BrandHasher) -> ExternalUser:
    """The external user once erased (pure): no first name, no email_tmp (its hash stays)."""
    email_hash = visitor.email_tmp_hash or (hasher("email", visitor.email_tmp) if visitor.email_tmp else None)
    return visitor.model_copy(update={"status": "erased", "first_name": None, "email_tmp": None,
                                      "email_tmp_hash": email_hash, "restriction": None})


# --- the services --------------------------------------------------------------------------------


def _check_rule(rule: str) -> None:
    if not rule or not rule.strip():
        raise ValueError("an erasure names the rule that caused it")


def _model_keys(model_type: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model_type.model_fields.items()}


def _stored(doc: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in doc.items() if not key.startswith("_")}


def _next_document(model_type: type[BaseModel], doc: dict[str, Any], erased: BaseModel,
                   extra: dict[str, Any]) -> dict[str, Any]:
    """The erased document: the model's fields erased, every field the model does not know kept.

    Fields outside the model are what other features keep on the document by patch (counters,
    scores): statistics, which erasure must leave intact. Personal data always has a model field.
    """
    known = _model_keys(model_type) | {"directory", "retention"}
    kept = {key: value for key, value in _stored(doc).items() if key not in known}
    return {**kept, **repository.to_document(erased), **extra}


def _erase_document(
    store: BrandStore,
    container: str,
    model_type: type[Model],
    subject_id: str,
    erase: Callable[[Model, dict[str, Any]], tuple[Model, dict[str, Any]]],
    before_write: Callable[[Model], None] | None = None,
) -> tuple[Model, bool]:
    """Load, erase and replace with the etag read; a concurrent writer makes us reload and redo."""

    def attempt() -> tuple[Model, bool]:
        try:
            doc = store.get(container, subject_id)
        except DocumentNotFound as exc:
            raise NotFound(f"{container[:-1].title()} not found") from exc
        model, etag = repository.from_document(model_type, doc)
        erased, extra = erase(model, doc)
        new_doc = _next_document(model_type, doc, erased, extra)
        if new_doc == _stored(doc):
            return erased, False
        if before_write is not None:
            before_write(model)
        store.replace(container, new_doc, etag=etag)
        return erased, True

    return retrying(attempt, attempts=_ATTEMPTS, exhausted=Conflict(
        f"{container[:-1].title()} {subject_id} kept changing during its erasure; try again"))


def _delete_all(store: BrandStore, container: str, filters: list[Filter], *, pk: str | None = None) -> int:
    """Delete every matching document (first page again until empty: deletions never skip one)."""
    deleted = 0
    while True:
        page = store.query(container, filters=filters, page_size=100, pk=pk)
        if not page.items:
            return deleted
        for doc in page.items:
            try:
                store.delete(container, doc["id"], pk=pk)
                deleted += 1
            except DocumentNotFound:
                pass  # a concurrent erasure or the ttl got there first


def _forget_access(store: BrandStore, subject_id: str, now: datetime) -> None:
    """No session, no pending link, no activity record of the subject survives."""
    sessions.revoke_subject(store=store, subject=subject_id, now=now, reason="erased")
    _delete_all(store, action_tokens.CONTAINER, [Filter("subject", "=", subject_id)])
    _delete_all(store, ACTIVITY_LOG, [Filter("subject", "=", subject_id)], pk=f"{store.brand_id}|{subject_id}")


def _find_subject(store: BrandStore, container: str, subject_id: str, what: str) -> dict[str, Any]:
    doc = store.find(container, subject_id)
    if doc is None:
        raise NotFound(f"{what} not found")
    return doc


def erase_member(*, store: BrandStore, blobs: BlobStore, hasher: BrandHasher, events: Publisher, member_id: str,
                 now: datetime, rule: str) -> Member:
    """Erase a member as the guide's table says (idempotent), then raise MemberErased; the erased member.

    The member's contacts go on that event (shared.crm.handlers): the guide's "a member's contacts go
    with them". Every retry raises it again, so a crash after the erasure still reaches them.
    """
    _check_rule(rule)
    doc = _find_subject(store, repository.MEMBERS, member_id, "Member")
    # Journal first: if anything below fails, the erasure is still known and a replay completes it. A
    # full erasure (names of people under contract too) is a further step, journalled on its own.
    full = rule in FULL_ERASURE_RULES and Role(doc["role"]).under_contract
    entries = journal.Journal(blobs, store.brand_id, hasher)
    if full or doc.get("status") != "erased":  # an erased member was journalled when erased
        entries.record(subject_type="member", subject_id=member_id, rule=rule, now=now,
                       qualifier="full" if full else None)
    sessions.revoke_subject(store=store, subject=member_id, now=now, reason="erased")

    def erase(member: Member, current: dict[str, Any]) -> tuple[Member, dict[str, Any]]:
        erased, sso_hash = erased_member(member, hasher=hasher, now=now, rule=rule)
        sso_hash = sso_hash or current.get(SSO_SUBJECT_HASH)
        return erased, ({SSO_SUBJECT_HASH: sso_hash} if sso_hash else {})

    def delete_photo(member: Member) -> None:
        # The file goes before the reference: a crash in between leaves a dangling name, never an orphan file.
        if member.photo_blob:
            blobs.delete(CONTAINER_UGC, member.photo_blob)

    erased, changed = _erase_document(store, repository.MEMBERS, Member, member_id, erase, delete_photo)
    # Photos are stored under the member's folder: anything left there (an upload that crashed) goes too.
    for blob in blobs.list(CONTAINER_UGC, prefix=f"{store.brand_id}/members/{member_id}/"):
        blobs.delete(CONTAINER_UGC, blob.name)
    _forget_access(store, member_id, now)
    content = _erase_content(ErasureContext(store=store, blobs=blobs, hasher=hasher, subject_type="member",
                                            subject_id=member_id, now=now, rule=rule))
    _release_member_keys(store, erased, _sso_hash(store, member_id))
    events.publish(member_events.erased(store.brand_id, member_id, rule=rule,
                                        brand_data_goes=rule in FULL_ERASURE_RULES, at=now))
    if changed:
        log.info("member %s of brand %s erased (%s); content %s", member_id, store.brand_id, rule, content)
    return erased


def _sso_hash(store: BrandStore, member_id: str) -> str | None:
    doc = store.find(repository.MEMBERS, member_id)
    return doc.get(SSO_SUBJECT_HASH) if doc else None


def _release_member_keys(store: BrandStore, member: Member, sso_hash: str | None) -> None:
    """Give the unique keys back: the erased account no longer holds the person's identifiers.

    The hashes stay on the erased document (the guide keeps them); only the lookup from an
    identifier to this account goes, so the person can sign up again as a new member.
    """
    keys = [("email", member.email_hash), ("customer_id", member.customer_id_hash), (SSO_KEY, sso_hash)]
    keys += [("social_id", hashed) for hashed in member.social_id_hashes.values()]
    for kind, hashed in keys:
        if hashed:
            repository.release_key(store=store, kind=kind, hashed=hashed, owner_id=member.id)


def erase_visitor(*, store: BrandStore, blobs: BlobStore, hasher: BrandHasher, visitor_id: str, now: datetime,
                  rule: str) -> ExternalUser:
    """Erase an external user (roles 7, 8) as the guide says (idempotent); the erased external user."""
    _check_rule(rule)
    doc = _find_subject(store, repository.VISITORS, visitor_id, "Visitor")
    if doc.get("status") != "erased":  # journal first (an erased visitor was journalled when erased)
        journal.Journal(blobs, store.brand_id, hasher).record(subject_type="visitor", subject_id=visitor_id,
                                                              rule=rule, now=now)
    sessions.revoke_subject(store=store, subject=visitor_id, now=now, reason="erased")

    def erase(visitor: ExternalUser, current: dict[str, Any]) -> tuple[ExternalUser, dict[str, Any]]:
        return erased_visitor(visitor, hasher=hasher), {}

    erased, changed = _erase_document(store, repository.VISITORS, ExternalUser, visitor_id, erase)
    _forget_access(store, visitor_id, now)
    content = _erase_content(ErasureContext(store=store, blobs=blobs, hasher=hasher, subject_type="visitor",
                                            subject_id=visitor_id, now=now, rule=rule))
    if erased.customer_id_hash:
        repository.release_key(store=store, kind=CLIENT_KEY, hashed=erased.customer_id_hash, owner_id=visitor_id)
    if changed:
        log.info("visitor %s of brand %s erased (%s); content %s", visitor_id, store.brand_id, rule, content)
    return erased


def replay_entry(entries: journal.Journal, store: BrandStore, brand: Brand, entry: dict[str, Any],
                 dry_run: bool, *, events: Publisher) -> journal.Outcome:
    """Erase again a member or external user the journal names, as of the entry's time (journal replay)."""
    subject_type, subject_id = entry["subjectType"], entry["subjectId"]
    container = repository.MEMBERS if subject_type == "member" else repository.VISITORS
    doc = store.find(container, subject_id)
    if doc is None:
        return "missing"  # the backup predates the subject: nothing came back
    if dry_run:
        # Without writing, a restored subject shows as not erased; an erased one is left as it is.
        return "again" if doc.get("status") != "erased" else "already"
    common = {"store": store, "blobs": entries.blobs, "hasher": entries.hasher, "now": parse_instant(entry["at"]),
              "rule": entry["rule"]}
    if subject_type == "member":
        erase_member(member_id=subject_id, events=events, **common)
    else:
        erase_visitor(visitor_id=subject_id, **common)
    after = store.find(container, subject_id) or {}
    return "already" if _stored(doc) == _stored(after) else "again"
