"""Erasure field by field, as the Data Protection Guide's tables say, on the real store and blob folder."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from shared.errors import NotFound
from shared.gdpr import erasure, journal
from shared.gdpr.erasure import MEMBER_FIELDS, VISITOR_FIELDS, ContentEraser, ContentItem
from shared.identity import action_tokens, activity, repository, sessions
from shared.identity.models import (
    Address,
    CommunicationOptIns,
    CommunityVisibility,
    ExternalUser,
    GeoPoint,
    Member,
    Restriction,
    Role,
    TermsAcceptance,
)
from shared.identity.sso import SSO_KEY
from shared.identity.visitors import CLIENT_KEY
from shared.ports.blobs import CONTAINER_UGC, BlobNotFound
from shared.ports.store import PatchOp
from tests.conftest import T0

BRAND = "acme"
EMAIL = "ana.lima@example.com"
PUBLIC, UNDER_CONTRACT = "roles 0", "roles 1-6"


@pytest.fixture
def store(container):
    return container.store.for_brand(BRAND)


@pytest.fixture
def hasher(container):
    return container.hasher(BRAND)


def journalled(container):
    """Every entry of the brand's erasure journal (in the blob store, apart from the database)."""
    return container.journal(BRAND).entries(since=T0 - timedelta(days=365))


def _terms(clock) -> TermsAcceptance:
    return TermsAcceptance(version="2030-01", accepted_at=clock.now() - timedelta(days=400))


def add_member(container, store, hasher, *, role=Role.AMBASSADOR, member_id="m1", email=EMAIL,
               claim_keys=True) -> Member:
    """A member with every field of the guide's table filled, a photo, a session, a link and activity."""
    clock = container.clock
    photo = f"{BRAND}/members/{member_id}/photo-1"
    container.blobs.put(CONTAINER_UGC, photo, b"\xff\xd8\xff photo", content_type="image/jpeg")
    member = Member(
        id=member_id, role=role, status="unsubscribed", created_at=clock.now() - timedelta(days=500),
        first_name="Ana", last_name="Lima", alias="ana_l", password_hash="$2b$12$abcdefghijklmnopqrstuv",
        email=email, email_hash=hasher("email", email), email_verified_at=clock.now() - timedelta(days=499),
        customer_id="C-1234", customer_id_hash=hasher("customer_id", "C-1234"),
        social_ids={"google": "g-42"}, social_id_hashes={"google": hasher("social_id", "google:g-42")},
        address=Address(street="1 rue de la Paix", city="Lyon", postal_code="69001", country="FR"),
        preferred_language="fr", birth_date=date(1990, 5, 17), birth_year=1990, popsell_terms=_terms(clock),
        photo_blob=photo, self_presentation="I love bikes", position="Head of sales", home_shop_id="shop-7",
        location=GeoPoint(lat=45.764, lon=4.8357),
        visibility=CommunityVisibility(hide_events_in_live_stream=True),
        communication=CommunicationOptIns(newsletters=False),
        owned_products=["sku-1"], recommended_products=["sku-2"], availability="online",
        availability_until=clock.now() + timedelta(minutes=5), sso_subject="brand-sub-9",
        last_activity_at=clock.now() - timedelta(days=10), status_changed_at=clock.now() - timedelta(days=7),
        erasure_due_at=clock.now(), restriction=Restriction(since=clock.now() - timedelta(days=2), request_id="r-1"),
    )
    repository.save(store=store, container=repository.MEMBERS, model=member, etag=None)
    for kind, hashed in (("email", member.email_hash), ("customer_id", member.customer_id_hash),
                         ("social_id", member.social_id_hashes["google"]),
                         (SSO_KEY, hasher(SSO_KEY, "brand-sub-9"))) if claim_keys else ():
        assert repository.claim_key(store=store, kind=kind, hashed=hashed, owner_id=member_id, owner_type="member")
    # Statistics other features keep on the document by patch.
    store.patch(repository.MEMBERS, member_id, [PatchOp("incr", "score", 120), PatchOp("set", "badges", 3)])
    sessions.issue_session(store=store, tokens=container.tokens, subject=member_id, audience="app", brand_id=BRAND,
                           now=clock.now(), role=int(role))
    action_tokens.create(store=store, purpose="password_reset", subject=member_id, now=clock.now(),
                         ttl=timedelta(hours=1))
    activity.record(store=store, subject=member_id, kind="login", now=clock.now(), ip_hash="i" * 64,
                    user_agent_hash="u" * 64, method="password")
    return member


def erase(container, store, hasher, member_id="m1", rule="member_unsubscribed") -> Member:
    return erasure.erase_member(store=store, blobs=container.blobs, hasher=hasher, member_id=member_id,
                                events=container.events, now=container.clock.now(), rule=rule)


# The guide's member table, per role group: what each field holds once the member is erased.
# KEPT means the value it had before; a callable computes the expected value from the original.
KEPT = object()
MEMBER_TABLE: dict[str, dict[str, object]] = {
    "id": {PUBLIC: KEPT, UNDER_CONTRACT: KEPT},
    "role": {PUBLIC: KEPT, UNDER_CONTRACT: KEPT},
    "status": {PUBLIC: "erased", UNDER_CONTRACT: "erased"},
    "created_at": {PUBLIC: KEPT, UNDER_CONTRACT: KEPT},
    "first_name": {PUBLIC: None, UNDER_CONTRACT: KEPT},
    "last_name": {PUBLIC: None, UNDER_CONTRACT: KEPT},
    "alias": {PUBLIC: None, UNDER_CONTRACT: KEPT},
    "password_hash": {PUBLIC: None, UNDER_CONTRACT: None},
    "email": {PUBLIC: None, UNDER_CONTRACT: None},
    "email_hash": {PUBLIC: KEPT, UNDER_CONTRACT: KEPT},
    "email_verified_at": {PUBLIC: KEPT, UNDER_CONTRACT: KEPT},
    "customer_id": {PUBLIC: None, UNDER_CONTRACT: None},
    "customer_id_hash": {PUBLIC: KEPT, UNDER_CONTRACT: KEPT},
    "social_ids": {PUBLIC: {}, UNDER_CONTRACT: {}},
    "social_id_hashes": {PUBLIC: KEPT, UNDER_CONTRACT: KEPT},
    "address": {PUBLIC: Address(city="Lyon", postal_code="69001"),
                UNDER_CONTRACT: Address(city="Lyon", postal_code="69001")},
    "preferred_language": {PUBLIC: None, UNDER_CONTRACT: None},
    "birth_date": {PUBLIC: None, UNDER_CONTRACT: None},
    "birth_year": {PUBLIC: 1990, UNDER_CONTRACT: 1990},
    "popsell_terms": {PUBLIC: KEPT, UNDER_CONTRACT: KEPT},
    "photo_blob": {PUBLIC: None, UNDER_CONTRACT: None},
    "self_presentation": {PUBLIC: None, UNDER_CONTRACT: None},
    "position": {PUBLIC: None, UNDER_CONTRACT: None},
    "home_shop_id": {PUBLIC: None, UNDER_CONTRACT: None},
    "location": {PUBLIC: None, UNDER_CONTRACT: None},
    "visibility": {PUBLIC: KEPT, UNDER_CONTRACT: KEPT},
    "communication": {PUBLIC: KEPT, UNDER_CONTRACT: KEPT},
    "notifications": {PUBLIC: KEPT, UNDER_CONTRACT: KEPT},
    "owned_products": {PUBLIC: [], UNDER_CONTRACT: []},
    "recommended_products": {PUBLIC: [], UNDER_CONTRACT: []},
    "availability": {PUBLIC: "offline", UNDER_CONTRACT: "offline"},
    "availability_until": {PUBLIC: None, UNDER_CONTRACT: None},
    "sso_subject": {PUBLIC: None, UNDER_CONTRACT: None},
    # The SSO subject survives only as its keyed hash.
    "sso_subject_hash": {PUBLIC: lambda original, hasher: hasher("sso_subject", original.sso_subject),
                         UNDER_CONTRACT: lambda original, hasher: hasher("sso_subject", original.sso_subject)},
    "last_activity_at": {PUBLIC: KEPT, UNDER_CONTRACT: KEPT},
    "status_changed_at": {PUBLIC: "now", UNDER_CONTRACT: "now"},
    "erasure_due_at": {PUBLIC: None, UNDER_CONTRACT: None},
    "session_epoch": {PUBLIC: KEPT, UNDER_CONTRACT: KEPT},
    "restriction": {PUBLIC: None, UNDER_CONTRACT: None},
}
CASES = [(field, role) for field in MEMBER_TABLE for role in Role if role.is_member]


def test_the_table_classifies_every_member_and_visitor_field():
    assert set(MEMBER_TABLE) == set(Member.model_fields) == set(MEMBER_FIELDS)
    assert set(VISITOR_TABLE) == set(ExternalUser.model_fields) == set(VISITOR_FIELDS)


@pytest.mark.parametrize(("field", "role"), CASES, ids=[f"{field}-role{int(role)}" for field, role in CASES])
def test_member_field_after_erasure(container, store, hasher, field, role):
    original = add_member(container, store, hasher, role=role)
    container.clock.advance(timedelta(hours=1))
    erased = erase(container, store, hasher)
    stored, _ = repository.get_member(store=store, member_id="m1")
    expected = MEMBER_TABLE[field][UNDER_CONTRACT if role.under_contract else PUBLIC]
    if expected is KEPT:
        expected = getattr(original, field)
    elif callable(expected):
        expected = expected(original, hasher)
    elif expected == "now":
        expected = container.clock.now()
    assert getattr(stored, field) == expected
    assert getattr(erased, field) == expected


def test_nothing_the_person_is_known_by_is_left_in_the_document(container, store, hasher):
    add_member(container, store, hasher, role=Role.AMBASSADOR)
    erase(container, store, hasher)
    text = json.dumps(store.get(repository.MEMBERS, "m1")).lower()
    for secret in ("ana", "lima", EMAIL, "c-1234", "g-42", "brand-sub-9", "rue de la paix", "1990-05-17",
                   "bikes", "head of sales", "shop-7", "45.764", "sku-1", "$2b$"):
        assert secret not in text, secret


def test_the_hashes_stay_comparable(container, store, hasher):
    add_member(container, store, hasher)
    erase(container, store, hasher)
    doc = store.get(repository.MEMBERS, "m1")
    assert doc["emailHash"] == hasher("email", " Ana.Lima@Example.com ")
    assert doc["customerIdHash"] == hasher("customer_id", "C-1234")
    assert doc["socialIdHashes"] == {"google": hasher("social_id", "google:g-42")}
    assert doc["ssoSubjectHash"] == hasher(SSO_KEY, "brand-sub-9")


def test_clear_identifiers_without_a_hash_get_one(container, store, hasher):
    member = Member(id="m2", role=Role.AMBASSADOR, status="active", created_at=container.clock.now(),
                    email="x@example.com", customer_id="C-9", social_ids={"apple": "a-1"})
    repository.save(store=store, container=repository.MEMBERS, model=member, etag=None)
    erased = erase(container, store, hasher, member_id="m2")
    assert erased.email_hash == hasher("email", "x@example.com")
    assert erased.customer_id_hash == hasher("customer_id", "C-9")
    assert erased.social_id_hashes == {"apple": hasher("social_id", "apple:a-1")}


def test_statistics_survive(container, store, hasher):
    add_member(container, store, hasher, role=Role.VENDOR)
    erase(container, store, hasher)
    doc = store.get(repository.MEMBERS, "m1")
    assert (doc["role"], doc["status"], doc["score"], doc["badges"], doc["birthYear"]) == (3, "erased", 120, 3, 1990)
    assert doc["address"] == {"street": None, "city": "Lyon", "postalCode": "69001", "country": None}
    assert doc["directory"]["listed"] is False
    assert doc["directory"]["lat"] is None and doc["directory"]["geoCell"] is None
    assert doc["retention"] == {}


def test_the_photo_file_and_any_orphan_upload_are_deleted(container, store, hasher):
    member = add_member(container, store, hasher)
    orphan = f"{BRAND}/members/m1/photo-crashed-upload"
    container.blobs.put(CONTAINER_UGC, orphan, b"\xff\xd8\xff", content_type="image/jpeg")
    container.blobs.put(CONTAINER_UGC, f"{BRAND}/members/m10/photo-1", b"\xff\xd8\xff", content_type="image/jpeg")
    erase(container, store, hasher)
    for name in (member.photo_blob, orphan):
        with pytest.raises(BlobNotFound):
            container.blobs.get(CONTAINER_UGC, name)
    assert container.blobs.get(CONTAINER_UGC, f"{BRAND}/members/m10/photo-1")  # another member's folder


def test_sessions_links_and_activity_of_the_subject_go(container, store, hasher):
    add_member(container, store, hasher)
    add_member(container, store, hasher, member_id="m2", email="other@example.com", claim_keys=False)
    erase(container, store, hasher)
    families = [doc for doc in store.query_all("auth_sessions") if doc["id"].startswith("family:")]
    assert {doc["subject"]: bool(doc["revokedAt"]) for doc in families} == {"m1": True, "m2": False}
    assert {doc["subject"] for doc in store.query_all("action_tokens")} == {"m2"}
    assert store.query_all("activity_log", pk=f"{BRAND}|m1") == []
    assert len(store.query_all("activity_log", pk=f"{BRAND}|m2")) == 1


def test_the_person_can_sign_up_again_as_a_new_member(container, store, hasher):
    member = add_member(container, store, hasher)
    erase(container, store, hasher)
    for kind, hashed in (("email", member.email_hash), ("customer_id", member.customer_id_hash),
                         ("social_id", member.social_id_hashes["google"]), (SSO_KEY, hasher(SSO_KEY, "brand-sub-9"))):
        assert repository.owner_of(store=store, kind=kind, hashed=hashed) is None
        assert repository.claim_key(store=store, kind=kind, hashed=hashed, owner_id="new-member", owner_type="member")


def test_erasing_twice_changes_nothing_and_journals_once(container, store, hasher):
    add_member(container, store, hasher)
    erase(container, store, hasher)
    first = store.get(repository.MEMBERS, "m1")
    container.clock.advance(timedelta(days=1))
    erase(container, store, hasher, rule="inactivity")
    assert store.get(repository.MEMBERS, "m1") == first  # same etag: not even rewritten
    entries = journalled(container)
    assert len(entries) == 1 and entries[0]["rule"] == "member_unsubscribed"


def test_the_journal_entry_holds_no_personal_data(container, store, hasher):
    add_member(container, store, hasher)
    erase(container, store, hasher)
    (entry,) = journalled(container)
    assert set(entry) == {"id", "at", "subjectId", "subjectHash", "subjectType", "rule"}
    assert entry["subjectHash"] == journal.subject_hash(hasher, "member", "m1")
    assert (entry["subjectType"], entry["at"]) == ("member", "2030-01-01T09:00:00Z")
    assert "ana" not in json.dumps(entry).lower() and "example.com" not in json.dumps(entry)


def test_the_end_of_the_brand_contract_erases_names_under_contract_too(container, store, hasher):
    add_member(container, store, hasher, role=Role.EMPLOYEE)
    assert erase(container, store, hasher).first_name == "Ana"
    erased = erase(container, store, hasher, rule=erasure.BRAND_CONTRACT_ENDED)
    assert (erased.first_name, erased.last_name, erased.alias) == (None, None, None)
    assert len(journalled(container)) == 2  # a further step, journalled on its own


def test_a_concurrent_writer_makes_the_erasure_reload_and_redo(container, store, hasher):
    add_member(container, store, hasher)

    class RacingStore:
        """The real store; a profile edit lands between the erasure's read and its write, once."""

        def __init__(self, inner):
            self._inner, self.raced = inner, False

        def __getattr__(self, name):
            return getattr(self._inner, name)

        def replace(self, container_name, doc, *, etag=None):
            if container_name == repository.MEMBERS and not self.raced:
                self.raced = True
                self._inner.patch(repository.MEMBERS, doc["id"], [PatchOp("set", "selfPresentation", "edited")])
            return self._inner.replace(container_name, doc, etag=etag)

    racing = RacingStore(store)
    erasure.erase_member(store=racing, blobs=container.blobs, events=container.events, hasher=hasher, member_id="m1",
                         now=container.clock.now(), rule="member_unsubscribed")
    assert racing.raced
    assert repository.get_member(store=store, member_id="m1")[0].self_presentation is None


def test_an_unknown_or_other_brands_member_is_not_found(container, store, hasher):
    add_member(container, store, hasher)
    other = container.store.for_brand("globex")
    with pytest.raises(NotFound):
        erasure.erase_member(store=other, blobs=container.blobs, hasher=container.hasher("globex"), member_id="m1",
                             events=container.events, now=container.clock.now(), rule="x")
    with pytest.raises(NotFound):
        erase(container, store, hasher, member_id="nobody")
    assert journalled(container) == []


def test_an_erasure_names_its_rule(container, store, hasher):
    add_member(container, store, hasher)
    with pytest.raises(ValueError):
        erase(container, store, hasher, rule=" ")
    assert repository.get_member(store=store, member_id="m1")[0].status == "unsubscribed"


# --- content erasers (UGC and later features) ------------------------------------------------------


@pytest.fixture
def ugc_eraser(container):
    """A test content type: files under <brand>/ugc/<member>/, some collected by contests."""
    contests = {"p2": "contest-keeps", "p3": "contest-lets-go"}

    def find(ctx):
        for blob in ctx.blobs.list(CONTAINER_UGC, prefix=f"{ctx.store.brand_id}/ugc/{ctx.subject_id}/"):
            name = blob.name.rsplit("/", 1)[1]
            yield ContentItem(id=blob.name, contest_id=contests.get(name))

    eraser = ContentEraser(
        content_type="test-ugc", find=find,
        erase=lambda ctx, item: ctx.blobs.delete(CONTAINER_UGC, item.id),
        keep_for_contest=lambda ctx, item: item.contest_id == "contest-keeps",
    )
    erasure.register_eraser(eraser)
    yield eraser
    erasure.unregister_eraser("test-ugc")


def test_content_goes_with_the_account_except_what_a_contest_keeps(container, store, hasher, ugc_eraser):
    add_member(container, store, hasher)
    for name in ("p1", "p2", "p3"):
        container.blobs.put(CONTAINER_UGC, f"{BRAND}/ugc/m1/{name}", b"img", content_type="image/jpeg")
    container.blobs.put(CONTAINER_UGC, f"{BRAND}/ugc/m2/p1", b"img", content_type="image/jpeg")
    erase(container, store, hasher)
    left = {blob.name for blob in container.blobs.list(CONTAINER_UGC, prefix=f"{BRAND}/ugc/")}
    assert left == {f"{BRAND}/ugc/m1/p2", f"{BRAND}/ugc/m2/p1"}
    erase(container, store, hasher)  # again: the contest's item is still kept, nothing fails
    assert f"{BRAND}/ugc/m1/p2" in {blob.name for blob in container.blobs.list(CONTAINER_UGC)}


def test_a_content_type_registers_once(ugc_eraser):
    with pytest.raises(ValueError):
        erasure.register_eraser(ContentEraser(content_type="test-ugc", find=lambda ctx: [],
                                              erase=lambda ctx, item: None))


# --- external users ----------------------------------------------------------------------------------

VISITOR_TABLE: dict[str, object] = {
    "id": KEPT, "role": KEPT, "status": "erased", "created_at": KEPT, "widget_policy": KEPT, "service_terms": KEPT,
    "first_name": None, "email_tmp": None, "email_tmp_hash": KEPT, "customer_id_hash": KEPT, "merged_into": KEPT,
    "last_interaction_at": KEPT, "restriction": None,
}
VISITOR_CASES = [(field, role) for field in VISITOR_TABLE for role in (Role.CLIENT, Role.TEMPORARY_ACCOUNT)]


def add_visitor(container, store, hasher, *, role=Role.CLIENT, visitor_id="v1") -> ExternalUser:
    clock = container.clock
    visitor = ExternalUser(
        id=visitor_id, role=role, created_at=clock.now() - timedelta(days=30), widget_policy=_terms(clock),
        service_terms=_terms(clock), first_name="Bea", email_tmp="bea@example.com",
        email_tmp_hash=hasher("email", "bea@example.com"),
        customer_id_hash=hasher("customer_id", "shop-77") if role == Role.CLIENT else None,
        last_interaction_at=clock.now() - timedelta(days=3),
        restriction=Restriction(since=clock.now() - timedelta(days=2), request_id="r-2"),
    )
    repository.save(store=store, container=repository.VISITORS, model=visitor, etag=None)
    if visitor.customer_id_hash:
        repository.claim_key(store=store, kind=CLIENT_KEY, hashed=visitor.customer_id_hash, owner_id=visitor_id,
                             owner_type="visitor")
    activity.record(store=store, subject=visitor_id, kind="chat", now=clock.now(), ip_hash=None, user_agent_hash=None)
    return visitor


def erase_visitor(container, store, hasher, visitor_id="v1"):
    return erasure.erase_visitor(store=store, blobs=container.blobs, hasher=hasher, visitor_id=visitor_id,
                                 now=container.clock.now(), rule="visitor_inactive")


@pytest.mark.parametrize(("field", "role"), VISITOR_CASES,
                         ids=[f"{field}-role{int(role)}" for field, role in VISITOR_CASES])
def test_visitor_field_after_erasure(container, store, hasher, field, role):
    original = add_visitor(container, store, hasher, role=role)
    erase_visitor(container, store, hasher)
    stored, _ = repository.get_visitor(store=store, visitor_id="v1")
    expected = getattr(original, field) if VISITOR_TABLE[field] is KEPT else VISITOR_TABLE[field]
    assert getattr(stored, field) == expected


def test_a_visitor_erasure_is_idempotent_and_frees_the_customer_key(container, store, hasher):
    visitor = add_visitor(container, store, hasher)
    erase_visitor(container, store, hasher)
    first = store.get(repository.VISITORS, "v1")
    erase_visitor(container, store, hasher)
    assert store.get(repository.VISITORS, "v1") == first
    assert "bea" not in json.dumps(first).lower()
    assert repository.owner_of(store=store, kind=CLIENT_KEY, hashed=visitor.customer_id_hash) is None
    assert store.query_all("activity_log", pk=f"{BRAND}|v1") == []
    (entry,) = journalled(container)
    assert entry["subjectType"] == "visitor" and entry["subjectHash"] == journal.subject_hash(hasher, "visitor", "v1")



def _contact(container, store, hasher, contact_id, brand_opt_in):
    from shared.crm import service as contacts
    from shared.crm.consent import MemberOptIn
    from shared.crm.models import ChangeHistory, Contact, ContactSource

    now = container.clock.now()
    contact = Contact(id=contact_id, member_id="m1", first_name="Zoe", email=f"{contact_id}@example.com",
                      email_hash=hasher("email", f"{contact_id}@example.com"), member_opt_in=MemberOptIn.NEW,
                      brand_opt_in=brand_opt_in, member_opt_in_at=now, brand_opt_in_at=now,
                      history=ChangeHistory(created_by=ContactSource.BRAND_SYNC, created_at=now))
    store.create(contacts.CONTACTS, contact.model_dump(mode="json", by_alias=True))


# "Storage only" is no opt-in for the brand (docs/decisions/0022): only an opt-in for communications stays.
@pytest.mark.parametrize(("rule", "kept"), [("member_unsubscribed", {"c-brand"}), ("member_inactive", {"c-brand"}),
                                            ("brand_contract_ended", set()), ("programme_suspension", set())])
def test_a_members_contacts_go_with_them_except_brand_opt_ins_unless_the_brand_ended(container, store, hasher,
                                                                                     rule, kept):
    from shared.crm.consent import BrandOptIn

    add_member(container, store, hasher, role=Role.AMBASSADOR)
    _contact(container, store, hasher, "c-brand", BrandOptIn.BRAND_DATABASE)
    _contact(container, store, hasher, "c-storage", BrandOptIn.STORAGE_ONLY)
    _contact(container, store, hasher, "c-none", BrandOptIn.NO_OPT_IN)
    erasure.erase_member(store=store, blobs=container.blobs, events=container.events, hasher=hasher, member_id="m1",
                         now=container.clock.now(), rule=rule)
    remaining = {doc["id"] for doc in store.query_all("contacts") if doc.get("email")}
    assert remaining == kept
