"""Data-subject requests (GDPR articles 15-22): access, portability, rectification, erasure, objection,
restriction of processing and its lifting.

A request moves received → identity_verified → in_progress → done, or to refused (with a
reason) from any open state; the table `NEXT` is the whole state machine. Every state change,
every export and every erasure is written to the GDPR register (shared.gdpr.register) under the
keyed hash of the person's id (a contact's: of their email address). A member or visitor asking
through their own authenticated session, and a contact through a rights session opened by a
one-time link sent to their address (shared.gdpr.contact_rights), is identity-verified at once; a
Manager admin acting on a person's behalf verifies the identity explicitly. Erasure asked by a
member or visitor needs a single-use confirmation link, then runs at once with the same rules as
retention (shared.gdpr.erasure); a contact's proof link is that confirmation already.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import ConfigDict, Field

from shared.brands.models import Brand
from shared.config import Settings
from shared.emails.address import EmailAddress
from shared.errors import Conflict, InvalidInput, NotFound
from shared.events.model import Publisher
from shared.gdpr import contact_subject, erasure, register, request_emails, restriction, subject_export
from shared.gdpr.contact_subject import ContactRectification
from shared.gdpr.exports import EXPORT_LIFETIME
from shared.gdpr.journal import Journal
from shared.gdpr.register import SubjectKind
from shared.identity import action_tokens, profiles, repository
from shared.identity.models import CamelModel
from shared.identity.profiles import CommunicationUpdate, ProfileUpdate
from shared.ports.blobs import CONTAINER_EXPORTS, BlobStore
from shared.ports.bus import MessageBus
from shared.ports.store import BrandStore, EtagMismatch, Filter, Page, PatchOp
from shared.privacy.hashing import BrandHasher

log = logging.getLogger(__name__)

CONTAINER = "gdpr_requests"
Kind = Literal["access", "portability", "rectification", "erasure", "objection", "restriction",
               "restriction_lift"]
State = Literal["received", "identity_verified", "in_progress", "done", "refused"]
Channel = Literal["app", "widget", "manager", "rights_page"]
RefusalCode = Literal[
    "identity_not_verified", "manifestly_unfounded", "excessive", "legal_obligation", "not_applicable", "other"
]
# Fields a member cannot edit in the App: a Manager admin rectifies them.
ManualField = Literal["email", "customerId", "socialIds", "role", "other"]

NEXT: dict[str, frozenset[str]] = {
    "received": frozenset({"identity_verified", "refused"}),
    "identity_verified": frozenset({"in_progress", "refused"}),
    "in_progress": frozenset({"done", "refused"}),
    "done": frozenset(),
    "refused": frozenset(),
}
ARTICLE = {"access": "gdpr_art15", "rectification": "gdpr_art16", "erasure": "gdpr_art17",
           "restriction": "gdpr_art18", "restriction_lift": "gdpr_art18", "portability": "gdpr_art20",
           "objection": "gdpr_art21"}
ERASURE_CONFIRM = "gdpr_erasure_confirm"  # action-token purpose of the confirmation link
ERASURE_CONFIRM_TTL = timedelta(days=7)
ERASURE_RULE = "data_subject_request"


class Refusal(CamelModel):
    code: RefusalCode
    detail: str | None = Field(None, max_length=1000)


class ExportInfo(CamelModel):
    blob: str
    expires_at: datetime


class StateChange(CamelModel):
    state: State
    at: datetime
    by: str  # "member" / "visitor" / "contact" (the person), "manager:<id>", "system"


class GdprRequest(CamelModel):
    """A request document (container `gdpr_requests`)."""

    id: str
    kind: Kind
    state: State
    channel: Channel
    subject_kind: SubjectKind
    subject_id: str  # a contact's: the keyed hash of their address (never a contact id)
    subject_hash: str
    created_at: datetime
    updated_at: datetime
    reason: str | None = None  # the person's (or the admin's) own words; scrubbed on erasure
    changes: dict[str, Any] | None = None  # rectification: the profile (or a contact's) fields to set
    fields: list[str] = Field(default_factory=list)  # rectification a Manager admin handles
    communication: dict[str, Any] | None = None  # objection: the opt-ins to turn off
    refusal: Refusal | None = None
    export: ExportInfo | None = None
    confirmation_sent_at: datetime | None = None
    history: list[StateChange] = Field(default_factory=list)


class RequestDetails(CamelModel):
    """What a request may carry besides its kind (validated against the kind by `check_details`)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    reason: str | None = Field(None, max_length=1000)
    changes: ProfileUpdate | None = None
    fields: list[ManualField] | None = Field(None, max_length=10)
    communication: CommunicationUpdate | None = None


class RequestCreate(RequestDetails):
    """A person's own request: its kind and, by kind, the changes, fields or opt-ins concerned."""

    kind: Kind


class ManagerRequestCreate(RequestCreate):
    """A request a Manager admin records on a person's behalf: exactly one of memberId, visitorId or contactEmail.

    A contact is named by their address (hashed at once, never stored): one person may be the
    contact of several members, and the request covers them all.
    """

    member_id: str | None = Field(None, min_length=1, max_length=120)
    visitor_id: str | None = Field(None, min_length=1, max_length=120)
    contact_email: EmailAddress | None = None

    def subject(self, hasher: BrandHasher) -> tuple[SubjectKind, str]:
        """Whose request it is; 422 naming memberId unless exactly one of the three is given."""
        given = [value for value in (self.member_id, self.visitor_id, self.contact_email) if value is not None]
        if len(given) != 1:
            raise _invalid("memberId", "give exactly one of memberId, visitorId or contactEmail")
        if self.member_id:
            return "member", self.member_id
        if self.visitor_id:
            return "visitor", self.visitor_id
        return "contact", hasher("email", self.contact_email or "")


class ContactRequestCreate(CamelModel):
    """A contact's own request from the rights page: its kind and, for a rectification, the corrections."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    kind: Kind
    reason: str | None = Field(None, max_length=1000)
    changes: ContactRectification | None = None


class RequestRead(CamelModel):
    """A request as its person sees it; `downloadUrl` works until `exportExpiresAt` (48 hours)."""

    id: str
    kind: Kind
    state: State
    channel: Channel
    created_at: datetime
    updated_at: datetime
    reason: str | None
    fields: list[str]
    refusal: Refusal | None
    export_expires_at: datetime | None
    download_url: str | None
    awaiting_confirmation: bool
    history: list[StateChange]


class ManagerRequestRead(RequestRead):
    """A request as a Manager admin sees it: whose it is too."""

    subject_kind: SubjectKind
    subject_id: str
    subject_hash: str
    changes: dict[str, Any] | None
    communication: dict[str, Any] | None


def _read_fields(blobs: BlobStore, request: GdprRequest, now: datetime) -> dict[str, Any]:
    return {
        **request.model_dump(),
        "export_expires_at": request.export.expires_at if request.export else None,
        "download_url": download_url(blobs=blobs, request=request, now=now),
        "awaiting_confirmation": (request.kind == "erasure" and request.confirmation_sent_at is not None
                                  and request.state == "identity_verified"),
    }


def to_read(*, blobs: BlobStore, request: GdprRequest, now: datetime) -> RequestRead:
    """The person's view of a request."""
    return RequestRead.model_validate(_read_fields(blobs, request, now))


def to_manager_read(*, blobs: BlobStore, request: GdprRequest, now: datetime) -> ManagerRequestRead:
    """A Manager admin's view of a request."""
    return ManagerRequestRead.model_validate(_read_fields(blobs, request, now))


@dataclass(frozen=True)
class Rights:
    """What processing a request needs: the brand's store and blobs, keyed hashing, the email queue."""

    store: BrandStore
    blobs: BlobStore
    hasher: BrandHasher
    bus: MessageBus
    events: Publisher
    settings: Settings
    brand: Brand

    @property
    def journal(self) -> Journal:
        """The brand's erasure journal (what a restored backup must not undo)."""
        return Journal(self.blobs, self.store.brand_id, self.hasher)


@dataclass(frozen=True)
class Outcome:
    """A request after an action, with what only this response may hand out."""

    request: GdprRequest
    confirmation_token: str | None = None


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"Invalid value for: {field}", errors=[{"field": field, "message": message}])


def check_details(kind: Kind, details: RequestDetails, subject_kind: SubjectKind) -> None:
    """Refuse details that do not fit the kind (422 naming the field)."""
    if details.changes is not None and subject_kind == "contact":
        raise _invalid("changes", "a contact corrects their data on the rights page; name the fields instead")
    if details.changes is not None and (kind != "rectification" or subject_kind != "member"):
        raise _invalid("changes", "only for a member's rectification request (visitors edit their own data)")
    if details.fields and kind != "rectification":
        raise _invalid("fields", "only for a rectification request")
    if details.communication is not None and (kind != "objection" or subject_kind != "member"):
        raise _invalid("communication", "only for a member's objection request")
    if kind == "rectification" and details.changes is None and not details.fields:
        raise _invalid("changes", "a rectification names the changes or the fields to rectify")
    if details.changes is not None and not details.changes.model_fields_set:
        raise _invalid("changes", "at least one field")


def check_contact_details(body: ContactRequestCreate) -> None:
    """Refuse a contact's corrections that do not fit the kind (422 naming the field)."""
    if body.changes is not None and body.kind != "rectification":
        raise _invalid("changes", "only for a rectification request")
    if body.kind == "rectification" and (body.changes is None or not body.changes.model_fields_set):
        raise _invalid("changes", "a rectification names at least one field to correct")


def _actor_tag(actor: str) -> str:
    """How the request's own history names an actor: the person by kind only, staff by id."""
    kind = actor.split(":", 1)[0]
    return kind if kind in register.SUBJECT_KINDS else actor


def _save(store: BrandStore, request: GdprRequest, etag: str | None) -> str:
    try:
        return repository.save(store=store, container=CONTAINER, model=request, etag=etag)
    except EtagMismatch as exc:
        raise Conflict("This request changed at the same time; try again") from exc


def get(*, store: BrandStore, request_id: str) -> tuple[GdprRequest, str | None]:
    """A request of this brand and its etag; NotFound otherwise."""
    doc = store.find(CONTAINER, request_id)
    if doc is None:
        raise NotFound("Request not found")
    return repository.from_document(GdprRequest, doc)


def get_own(*, store: BrandStore, request_id: str, subject_hash: str) -> GdprRequest:
    """A request of the calling person; another person's request is the same 404 as a missing one."""
    request, _ = get(store=store, request_id=request_id)
    if request.subject_hash != subject_hash:
        raise NotFound("Request not found")
    return request


def list_requests(
    *, store: BrandStore, subject_hash: str | None = None, state: State | None = None, page_size: int = 50,
    continuation: str | None = None,
) -> tuple[list[GdprRequest], str | None]:
    """Requests of the brand (or one person), newest first, optionally in one state."""
    filters = []
    if subject_hash:
        filters.append(Filter("subjectHash", "=", subject_hash))
    if state:
        filters.append(Filter("state", "=", state))
    page: Page = store.query(CONTAINER, filters=filters, order_by="createdAt", descending=True,
                             page_size=page_size, continuation=continuation)
    return [repository.from_document(GdprRequest, doc)[0] for doc in page.items], page.continuation


def _move(
    rights: Rights, request: GdprRequest, etag: str | None, state: State, *, actor: str, now: datetime,
    reason: str | None = None, **changes: Any,
) -> tuple[GdprRequest, str]:
    """One state change, saved with the etag read and written to the register (once, even when retried)."""
    if state not in NEXT[request.state]:
        raise Conflict(f"A request that is {request.state} cannot become {state}")
    moved = request.model_copy(update={
        "state": state, "updated_at": now, **changes,
        "history": [*request.history, StateChange(state=state, at=now, by=_actor_tag(actor))],
    })
    etag = _save(rights.store, moved, etag)
    register.record(store=rights.store, actor=actor, action=f"request_{state}", subject_hash=request.subject_hash,
                    reason=reason or ARTICLE[request.kind], now=now, request_id=request.id, hasher=rights.hasher,
                    entry_id=f"{request.id}:{state}")
    log.info("gdpr request %s (%s) of brand %s: %s -> %s", request.id, request.kind, rights.store.brand_id,
             request.state, state)
    return moved, etag


def _subject_exists(rights: Rights, subject_kind: SubjectKind, subject_id: str) -> None:
    if subject_kind == "member":
        repository.get_member(store=rights.store, member_id=subject_id)
    elif subject_kind == "visitor":
        repository.get_visitor(store=rights.store, visitor_id=subject_id)
    elif not contact_subject.exists(store=rights.store, email_hash=subject_id):
        raise NotFound("Contact not found")


def _dump(model: Any) -> dict[str, Any] | None:
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True) if model is not None else None


def create(
    *, rights: Rights, subject_kind: SubjectKind, subject_id: str, kind: Kind, details: RequestDetails,
    channel: Channel, actor: str, now: datetime,
) -> tuple[GdprRequest, str]:
    """Record a new request (state received) for a member, visitor or contact of this brand."""
    check_details(kind, details, subject_kind)
    return _record(rights, subject_kind=subject_kind, subject_id=subject_id, kind=kind, channel=channel, actor=actor,
                   now=now, reason=details.reason, changes=_dump(details.changes), fields=list(details.fields or []),
                   communication=_dump(details.communication))


def _record(
    rights: Rights, *, subject_kind: SubjectKind, subject_id: str, kind: Kind, channel: Channel, actor: str,
    now: datetime, reason: str | None, changes: dict[str, Any] | None, fields: list[str] | None = None,
    communication: dict[str, Any] | None = None,
) -> tuple[GdprRequest, str]:
    _subject_exists(rights, subject_kind, subject_id)
    subject_hash = register.subject_hash(rights.hasher, subject_kind, subject_id)
    request = GdprRequest(
        id=uuid.uuid4().hex, kind=kind, state="received", channel=channel, subject_kind=subject_kind,
        subject_id=subject_id, subject_hash=subject_hash, created_at=now, updated_at=now, reason=reason,
        changes=changes, fields=fields or [], communication=communication,
        history=[StateChange(state="received", at=now, by=_actor_tag(actor))],
    )
    etag = _save(rights.store, request, None)
    register.record(store=rights.store, actor=actor, action="request_received", subject_hash=subject_hash,
                    reason=ARTICLE[kind], now=now, request_id=request.id, hasher=rights.hasher,
                    entry_id=f"{request.id}:received")
    return request, etag


def submit_own(
    *, rights: Rights, subject_kind: SubjectKind, subject_id: str, kind: Kind, details: RequestDetails,
    now: datetime,
) -> Outcome:
    """A request by the authenticated person: identity verified by their session, then handled as far as it can go.

    Export, rectification, objection, restriction and its lifting complete at once; erasure waits
    for its confirmation link; what only a Manager admin can do (e.g. a new email) waits for them.
    """
    channel: Channel = "app" if subject_kind == "member" else "widget"
    actor = f"{subject_kind}:{subject_id}"
    request, etag = create(rights=rights, subject_kind=subject_kind, subject_id=subject_id, kind=kind, details=details,
                           channel=channel, actor=actor, now=now)
    request, etag = _move(rights, request, etag, "identity_verified", actor=actor, now=now, reason="authenticated")
    if kind == "erasure":
        return _ask_erasure_confirmation(rights, request, etag, now=now)
    if kind in ("rectification", "objection") and (subject_kind == "visitor" or request.fields):
        if request.changes:
            _rectify(rights, request, actor=actor, now=now)
        return Outcome(request)  # a Manager admin takes it from here
    return Outcome(_run(rights, request, etag, actor=actor, now=now))


def submit_contact(*, rights: Rights, email_hash: str, body: ContactRequestCreate, now: datetime) -> GdprRequest:
    """A contact's request from their rights session: control of the address is proven, so it runs at once.

    Every kind completes at once, erasure included: the one-time link that opened the session, sent
    to the address minutes ago, is the confirmation a member's erasure asks for by email.
    """
    check_contact_details(body)
    actor = f"contact:{email_hash}"
    request, etag = _record(rights, subject_kind="contact", subject_id=email_hash, kind=body.kind,
                            channel="rights_page", actor=actor, now=now, reason=body.reason,
                            changes=_dump(body.changes))
    request, etag = _move(rights, request, etag, "identity_verified", actor=actor, now=now,
                          reason="proof_of_control")
    return _run(rights, request, etag, actor=actor, now=now)


def verify_identity(*, rights: Rights, request_id: str, actor: str, now: datetime) -> GdprRequest:
    """A Manager admin confirms who the person is (idempotent once verified)."""
    request, etag = get(store=rights.store, request_id=request_id)
    if request.state == "identity_verified":
        return request
    return _move(rights, request, etag, "identity_verified", actor=actor, now=now, reason="verified_by_manager")[0]


def refuse(
    *, rights: Rights, request_id: str, code: RefusalCode, detail: str | None, actor: str, now: datetime
) -> GdprRequest:
    """Refuse an open request with a reason (the register keeps the code; the request keeps the explanation)."""
    request, etag = get(store=rights.store, request_id=request_id)
    refusal = Refusal(code=code, detail=detail)
    return _move(rights, request, etag, "refused", actor=actor, now=now, reason=code, refusal=refusal)[0]


def process(*, rights: Rights, request_id: str, actor: str, now: datetime) -> GdprRequest:
    """Run a verified request on the person's behalf: export, erasure, rectification, objection, restriction or
    its lifting; then done."""
    request, etag = get(store=rights.store, request_id=request_id)
    if request.state == "received":
        raise Conflict("Verify the person's identity before processing the request")
    if request.state not in ("identity_verified", "in_progress"):
        raise Conflict(f"This request is already {request.state}")
    return _run(rights, request, etag, actor=actor, now=now)


def _run(rights: Rights, request: GdprRequest, etag: str | None, *, actor: str, now: datetime) -> GdprRequest:
    """in_progress, the kind's work, done. A run that crashed half-way is run again from in_progress."""
    if request.state == "identity_verified":
        request, etag = _move(rights, request, etag, "in_progress", actor=actor, now=now)
    changes: dict[str, Any] = {}
    if request.kind in ("access", "portability"):
        changes["export"] = _export(rights, request, actor=actor, now=now)
    elif request.kind == "erasure":
        _erase(rights, request, actor=actor, now=now)
    elif request.kind == "rectification":
        _rectify(rights, request, actor=actor, now=now)
    elif request.kind == "objection":
        _object(rights, request, actor=actor, now=now)
    elif request.kind == "restriction":
        _restrict(rights, request, actor=actor, now=now)
    elif request.kind == "restriction_lift":
        _lift(rights, request, actor=actor, now=now)
    if request.kind == "erasure":
        # The erasure scrubbed this document's free text: read it again before the last step.
        request, etag = get(store=rights.store, request_id=request.id)
    done, _ = _move(rights, request, etag, "done", actor=actor, now=now, **changes)
    if request.kind in ("access", "portability"):
        _email_export(rights, done, now=now)
    return done


# -- export -------------------------------------------------------------------------------------


def _export(rights: Rights, request: GdprRequest, *, actor: str, now: datetime) -> ExportInfo:
    if request.subject_kind == "member":
        content = subject_export.member_export(store=rights.store, blobs=rights.blobs, member_id=request.subject_id,
                                               subject_hash=request.subject_hash, now=now)
    elif request.subject_kind == "contact":
        content = contact_subject.export(
            store=rights.store, email_hash=request.subject_id, now=now,
            requests=subject_export.gdpr_requests(store=rights.store, subject_hash=request.subject_hash))
    else:
        content = subject_export.visitor_export(store=rights.store, visitor_id=request.subject_id,
                                                subject_hash=request.subject_hash, now=now)
    content["request"] = {"id": request.id, "kind": request.kind}
    name = subject_export.write_export(blobs=rights.blobs, brand_id=rights.store.brand_id, request_id=request.id,
                                       content=content)
    register.record(store=rights.store, actor=actor, action="export_created", subject_hash=request.subject_hash,
                    reason=ARTICLE[request.kind], now=now, request_id=request.id, hasher=rights.hasher,
                    entry_id=f"{request.id}:export")
    return ExportInfo(blob=name, expires_at=now + EXPORT_LIFETIME)


def download_url(*, blobs: BlobStore, request: GdprRequest, now: datetime) -> str | None:
    """A signed link to the request's export, valid until 48 hours after it was made; None after."""
    if request.export is None or now >= request.export.expires_at:
        return None
    return blobs.signed_url(CONTAINER_EXPORTS, request.export.blob, expires_in=request.export.expires_at - now)


def _email(rights: Rights, request: GdprRequest, *, template: str, data: dict[str, Any], message_id: str) -> bool:
    """Write to the request's own person (members and contacts; visitors never): request_emails.send."""
    return request_emails.send(store=rights.store, bus=rights.bus, settings=rights.settings, brand=rights.brand,
                               subject_kind=request.subject_kind, subject_id=request.subject_id, template=template,
                               data=data, message_id=message_id)


def _email_export(rights: Rights, request: GdprRequest, *, now: datetime) -> None:
    url = download_url(blobs=rights.blobs, request=request, now=now)
    if url is None or request.export is None:
        return
    _email(rights, request, template=request_emails.export_template(request.subject_kind),
           data={"download_url": url, "expires_on": request.export.expires_at.isoformat()},
           message_id=f"gdpr-export:{request.id}")


# -- erasure ------------------------------------------------------------------------------------


def _ask_erasure_confirmation(rights: Rights, request: GdprRequest, etag: str | None, *, now: datetime) -> Outcome:
    """Send (members) or hand back (visitors) the single-use link that confirms an erasure."""
    token = action_tokens.create(store=rights.store, purpose=ERASURE_CONFIRM, subject=request.id, now=now,
                                 ttl=ERASURE_CONFIRM_TTL)
    sent = request.model_copy(update={"confirmation_sent_at": now, "updated_at": now})
    _save(rights.store, sent, etag)
    if request.subject_kind == "visitor":
        # A visitor's email_tmp may serve only the conversation notification: the widget shows the step instead.
        return Outcome(sent, confirmation_token=token)
    base = rights.settings.public_base_url.rstrip("/")
    _email(rights, request, template="gdpr_erasure_confirmation",
           data={"confirm_url": f"{base}/app/{rights.brand.id}/gdpr/erasure/confirm#token={token}",
                 "expires_on": (now + ERASURE_CONFIRM_TTL).isoformat()},
           message_id=f"gdpr-erasure:{request.id}:{action_tokens.token_hash(token)[:16]}")
    register.record(store=rights.store, actor="system", action="erasure_confirmation_requested",
                    subject_hash=request.subject_hash, reason=ARTICLE["erasure"], now=now, request_id=request.id,
                    entry_id=f"{request.id}:confirmation:{action_tokens.token_hash(token)[:16]}")
    return Outcome(sent)


def confirm_erasure(*, rights: Rights, token: str, now: datetime, visitor_id: str | None = None) -> GdprRequest:
    """Erase at once on the confirmation link: 422 unknown link, 410 used or expired (single use)."""
    link = action_tokens.peek(store=rights.store, purpose=ERASURE_CONFIRM, token=token, now=now)
    request, etag = get(store=rights.store, request_id=link.subject)
    if visitor_id is not None and request.subject_id != visitor_id:
        raise _invalid("token", "unknown or malformed")
    action_tokens.consume(store=rights.store, purpose=ERASURE_CONFIRM, token=token, now=now)
    if request.state not in ("identity_verified", "in_progress"):
        raise Conflict(f"This request is already {request.state}")
    return _run(rights, request, etag, actor=f"{request.subject_kind}:{request.subject_id}", now=now)


def _erase(rights: Rights, request: GdprRequest, *, actor: str, now: datetime) -> None:
    if request.subject_kind == "member":
        erasure.erase_member(store=rights.store, blobs=rights.blobs, hasher=rights.hasher, events=rights.events,
                             member_id=request.subject_id, now=now, rule=ERASURE_RULE)
    elif request.subject_kind == "contact":
        contact_subject.erase(store=rights.store, journal=rights.journal, email_hash=request.subject_id, now=now,
                              by=f"gdpr:{request.id}")
    else:
        erasure.erase_visitor(store=rights.store, blobs=rights.blobs, hasher=rights.hasher,
                              visitor_id=request.subject_id, now=now, rule=ERASURE_RULE)
    _scrub_requests(rights.store, request.subject_hash)
    register.record(store=rights.store, actor=actor, action="erasure_done", subject_hash=request.subject_hash,
                    reason=ERASURE_RULE, now=now, request_id=request.id, hasher=rights.hasher,
                    entry_id=f"{request.id}:erasure")


def _scrub_requests(store: BrandStore, subject_hash: str) -> None:
    """The person's own words and requested values go with their data; states and dates stay."""
    for doc in store.query_all(CONTAINER, filters=[Filter("subjectHash", "=", subject_hash)], page_size=200):
        ops = [PatchOp("set", "reason", None), PatchOp("set", "changes", None),
               PatchOp("set", "communication", None)]
        if doc.get("refusal"):
            ops.append(PatchOp("set", "refusal.detail", None))
        store.patch(CONTAINER, doc["id"], ops)


# -- rectification and objection ----------------------------------------------------------------


def _rectify(rights: Rights, request: GdprRequest, *, actor: str, now: datetime) -> None:
    if request.subject_kind == "contact" and request.changes:
        corrections = ContactRectification.model_validate(request.changes)
        contact_subject.rectify(store=rights.store, brand=rights.brand, email_hash=request.subject_id,
                                changes=corrections, now=now)
        fields = ",".join(sorted(corrections.model_dump(by_alias=True, exclude_unset=True)))
        register.record(store=rights.store, actor=actor, action="rectified", subject_hash=request.subject_hash,
                        reason=f"fields:{fields}", now=now, request_id=request.id, hasher=rights.hasher,
                        entry_id=f"{request.id}:rectified")
    if request.subject_kind == "member" and request.changes:
        changes = ProfileUpdate.model_validate(request.changes)
        profiles.update(store=rights.store, member_id=request.subject_id, changes=changes, now=now)
        fields = ",".join(sorted(changes.model_dump(by_alias=True, exclude_unset=True)))
        register.record(store=rights.store, actor=actor, action="rectified", subject_hash=request.subject_hash,
                        reason=f"fields:{fields}", now=now, request_id=request.id, hasher=rights.hasher,
                        entry_id=f"{request.id}:rectified")
    if request.fields and actor.startswith(("manager:", "operator:")):
        register.record(store=rights.store, actor=actor, action="rectified", subject_hash=request.subject_hash,
                        reason="fields:" + ",".join(sorted(request.fields)), now=now, request_id=request.id,
                        entry_id=f"{request.id}:rectified-manual")


def _object(rights: Rights, request: GdprRequest, *, actor: str, now: datetime) -> None:
    if request.subject_kind == "member":
        # An objection without details turns every communication opt-in off.
        communication = CommunicationUpdate.model_validate(request.communication or {
            "newsletters": False, "eventNotifications": False, "challengeNotifications": False,
            "commentNotifications": False})
        profiles.update(store=rights.store, member_id=request.subject_id,
                        changes=ProfileUpdate(communication=communication), now=now)
        turned = ",".join(sorted(communication.model_dump(by_alias=True, exclude_unset=True)))
        reason = f"communication:{turned}"
    elif request.subject_kind == "contact":
        contact_subject.object_to_processing(store=rights.store, journal=rights.journal, events=rights.events,
                                             brand=rights.brand,
                                             email_hash=request.subject_id, now=now)
        reason = "opt_out:members,brand"
    else:
        reason = ARTICLE["objection"]
    register.record(store=rights.store, actor=actor, action="objection_recorded", subject_hash=request.subject_hash,
                    reason=reason, now=now, request_id=request.id, hasher=rights.hasher,
                    entry_id=f"{request.id}:objection")


# -- restriction (article 18) ------------------------------------------------------------------


def _restrict(rights: Rights, request: GdprRequest, *, actor: str, now: datetime) -> None:
    changed = restriction.restrict(store=rights.store, journal=rights.journal, subject_kind=request.subject_kind,
                                   subject_id=request.subject_id, request_id=request.id, now=now)
    register.record(store=rights.store, actor=actor,
                    action="restriction_applied" if changed else "restriction_unchanged",
                    subject_hash=request.subject_hash, reason=ARTICLE["restriction"], now=now, request_id=request.id,
                    hasher=rights.hasher, entry_id=f"{request.id}:restriction")


def _lift(rights: Rights, request: GdprRequest, *, actor: str, now: datetime) -> None:
    staff = actor.split(":", 1)[0] not in register.SUBJECT_KINDS
    if staff and restriction.current(store=rights.store, subject_kind=request.subject_kind,
                                     subject_id=request.subject_id) is not None:
        # Article 18(3): a person whose restriction someone else lifts is told before it is lifted.
        _email(rights, request, template="gdpr_restriction_lifted", data={"lifted_on": now.isoformat()},
               message_id=f"gdpr-restriction-lifted:{request.id}")
    changed = restriction.lift(store=rights.store, journal=rights.journal, subject_kind=request.subject_kind,
                               subject_id=request.subject_id, now=now)
    register.record(store=rights.store, actor=actor,
                    action="restriction_lifted" if changed else "restriction_unchanged",
                    subject_hash=request.subject_hash, reason=ARTICLE["restriction_lift"], now=now,
                    request_id=request.id, hasher=rights.hasher, entry_id=f"{request.id}:restriction")


def own_page(
    *, store: BrandStore, blobs: BlobStore, subject_hash: str, now: datetime, page_size: int,
    continuation: str | None,
) -> tuple[list[RequestRead], str | None]:
    """The calling person's requests as they see them, a page at a time (members, visitors and contacts alike)."""
    items, token = list_requests(store=store, subject_hash=subject_hash, page_size=page_size, continuation=continuation)
    return [to_read(blobs=blobs, request=item, now=now) for item in items], token


def own_read(*, store: BrandStore, blobs: BlobStore, subject_hash: str, request_id: str, now: datetime) -> RequestRead:
    """One of the calling person's requests as they see it; anyone else's is a 404."""
    return to_read(blobs=blobs, request=get_own(store=store, request_id=request_id, subject_hash=subject_hash), now=now)
