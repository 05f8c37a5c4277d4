"""All of a brand's personal data goes when its programme stays suspended past the cap or its contract ends.

Driven through the Manager, App and Widget APIs and the retention timers, on the settable clock: a
suspension on 1 September keeps everything until the last instant of 28 February and erases it on
1 March; everything means members, the names of roles 1-6 an earlier erasure kept, external users
and every contact, those kept for their brand opt-in included. Resuming before then keeps everything.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from popsell.registry import timer_jobs
from shared.gdpr import journal, journal_replay
from shared.identity import repository, visitors
from shared.identity.models import Role
from shared.scheduling import next_fire
from tests.builders import sent_emails, timer
from tests.crm.capture_world import ORIGIN, POLICY, external_form
from tests.identity.test_profile_api import add_member, app_headers
from tests.integrations.brand_platform import TERMS, Key, sync_member
from tests.races import in_parallel

BRAND = "acme"
MANAGER = f"/api/v1/manager/brands/{BRAND}"
APP = f"/api/v1/app/{BRAND}"
SUSPENDED_ON = datetime(2030, 9, 1, 10, 0, tzinfo=UTC)
CAP = datetime(2031, 3, 1, tzinfo=UTC)  # six calendar months after the day of suspension, from its first instant
CONTRACT_END_DUE = SUSPENDED_ON + timedelta(days=7)
JUST_BEFORE = timedelta(microseconds=1)
NAMES = ("firstName", "lastName", "alias")


def outbox(container, template):
    return sent_emails(container, BRAND, template)


def journal_ids(container, *subject_types: str) -> set[str]:
    """The ids of the brand's journal entries (of these subject types; all when none is named)."""
    return {entry["id"] for entry in container.journal(BRAND).entries(since=datetime(2000, 1, 1, tzinfo=UTC))
            if not subject_types or entry["subjectType"] in subject_types}


class Programme:
    """One brand as its people made it through the APIs: members, their contacts, an external user."""

    def __init__(self, client, container, manager_token):
        self.client, self.container, self.token = client, container, manager_token
        created = client.post("/api/v1/manager/brands", headers=self.operator,
                              json={"id": BRAND, "name": "Acme", "manualContactEntry": True,
                                    "widgetAllowedOrigins": [ORIGIN], "privacyPolicyUrl": POLICY})
        assert created.status_code == 201, created.text
        key = created.json()["integrationKey"]
        self.key = Key(brand_id=BRAND, kid=key["kid"], secret=key["secret"])
        self.admin  # the brand's admin, a Manager user with an address (stored now)
        self.members = {"amb": Role.AMBASSADOR, "vendor": Role.VENDOR, "leaver": Role.EMPLOYEE}
        for member_id, role in self.members.items():
            add_member(container, member_id=member_id, role=role, alias=f"{member_id}-alias",
                       email_verified_at=container.clock.now(), preferred_language="en")
        self.contacts = {
            "amb-storage": self.form("amb", "storage@example.com"),
            "amb-brand": self.form("amb", "brand@example.com", brandOptIn=True),
            "amb-none": self.manual("amb", "none@example.com"),
            "vendor-brand": self.form("vendor", "vbrand@example.com", brandOptIn=True),
            "leaver-brand": self.form("leaver", "lbrand@example.com", brandOptIn=True),
            "leaver-storage": self.form("leaver", "lstorage@example.com"),
        }
        data = visitors.VisitorCreate.model_validate({"acceptWidgetPolicy": True, "widgetPolicyVersion": "v1",
                                                      "acceptServiceTerms": True, "serviceTermsVersion": "v1",
                                                      "firstName": "Zoe", "emailTmp": "zoe@example.com"})
        self.visitor = visitors.create_temporary_account(store=self.store, hasher=container.hasher(BRAND),
                                                         data=data, now=container.clock.now()).id

    @property
    def admin(self):
        return self.token("admin", BRAND)  # the same stored user every time (issued now)

    @property
    def operator(self):
        return self.token("operator")  # issued now: the clock moves months between calls

    @property
    def store(self):
        return self.container.store.for_brand(BRAND)

    def headers(self, member_id):
        return app_headers(self.container, repository.get_member(store=self.store, member_id=member_id)[0])

    def form(self, member_id, email, **ticks):
        external_form(self.client, self.container, member_id, email, **ticks)
        return self.contact_by_email(email)

    def manual(self, member_id, email):
        response = self.client.post(f"{APP}/contacts", headers=self.headers(member_id),
                                    json={"firstName": "Zoe", "email": email})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def contact_by_email(self, email):
        hashed = self.container.hasher(BRAND)("email", email)
        [doc] = [doc for doc in self.store.query_all("contacts") if doc.get("emailHash") == hashed]
        return doc["id"]

    def contact(self, key):
        return self.store.get("contacts", self.contacts[key])

    def member(self, member_id):
        return self.store.get(repository.MEMBERS, member_id)

    def set_status(self, status):
        response = self.client.put(f"{MANAGER}/status", headers=self.operator, json={"status": status})
        assert response.status_code == 200, response.text
        return response

    def manager_sees(self):
        # A platform operator: once all the brand's data is gone, so are the brand's own Manager users.
        response = self.client.get(f"{MANAGER}/contacts", headers=self.operator)
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    def leaver_unsubscribes_and_is_erased(self, clock):
        response = self.client.post(f"{APP}/me/unsubscribe", headers=self.headers("leaver"), json={"confirm": True})
        assert response.status_code == 202, response.text
        clock.advance(timedelta(days=7))
        timer(self.container, "retention_members")
        leaver = self.member("leaver")
        # Role 1 keeps its names while the brand's platform is active; the contact with a brand opt-in stays.
        assert leaver["status"] == "erased" and leaver["lastName"] == "Lopes"
        assert self.contact("leaver-brand")["email"] == "lbrand@example.com"
        assert self.contact("leaver-storage")["email"] is None

    def snapshot(self):
        documents = {container: sorted(self.store.query_all(container), key=lambda doc: doc["id"])
                     for container in (repository.MEMBERS, repository.VISITORS, "contacts")}
        return {**documents, "journal": sorted(journal_ids(self.container))}

    def assert_all_kept(self):
        for member_id in ("amb", "vendor"):
            member = self.member(member_id)
            assert member["status"] == "active" and member["email"] == f"{member_id}@example.com"
        assert self.member("leaver")["lastName"] == "Lopes"
        for key in ("amb-storage", "amb-brand", "amb-none", "vendor-brand", "leaver-brand"):
            assert self.contact(key)["status"] == "active" and self.contact(key)["email"]
        assert self.store.get(repository.VISITORS, self.visitor)["emailTmp"] == "zoe@example.com"

    def assert_all_erased(self):
        for member_id in self.members:
            member = self.member(member_id)
            assert member["status"] == "erased" and member.get("email") is None and member["emailHash"]
            assert [member.get(name) for name in NAMES] == [None, None, None], member_id
        for key in self.contacts:
            contact = self.contact(key)
            assert contact["status"] == "erased" and contact["email"] is None and contact["firstName"] is None, key
            assert contact["emailHash"], key  # deleted the guide's way: hashed
        visitor = self.store.get(repository.VISITORS, self.visitor)
        assert visitor["status"] == "erased" and visitor.get("emailTmp") is None and visitor.get("firstName") is None
        assert self.manager_sees() == set()
        # The brand's Manager users are users too: erased (hashed), their tokens refused, out of the list.
        users = self.store.query_all(repository.MANAGER_USERS)
        assert users and {(user["status"], user["email"], user.get("passwordHash")) for user in users} == {
            ("erased", None, None)}
        assert all(user["emailHash"] for user in users)
        assert self.client.get(f"{MANAGER}/contacts", headers=self.admin).status_code == 401
        listed = self.client.get(f"{MANAGER}/users", headers=self.operator)
        assert listed.status_code == 200 and listed.json()["items"] == []


@pytest.fixture
def programme(client, container, manager_token, clock):
    made = Programme(client, container, manager_token)
    made.leaver_unsubscribes_and_is_erased(clock)
    clock.set(SUSPENDED_ON)
    return made


def test_a_suspension_on_1_september_keeps_everything_until_28_february_and_erases_it_on_1_march(
        programme, container, clock):
    programme.set_status("suspended")
    timer(container, "retention_brands")
    notices = outbox(container, "programme_suspension")
    assert sorted(mail["toEmail"] for mail in notices) == ["amb@example.com", "vendor@example.com"]
    assert all("1 March 2031" in mail["text"] for mail in notices)  # the date the data goes, in calendar months

    clock.set(datetime(2031, 2, 28, 23, 59, 59, tzinfo=UTC))
    timer(container, "retention_brands")
    clock.set(CAP - JUST_BEFORE)
    timer(container, "retention_brands")
    programme.assert_all_kept()
    assert programme.manager_sees() == {programme.contacts[key] for key in
                                        ("amb-storage", "amb-brand", "vendor-brand", "leaver-brand")}

    # The daily timer's first run after that instant is on 1 March, and it erases everything.
    fires = next_fire(timer_jobs()["retention_brands"].schedule, clock.now())
    assert fires.date() == CAP.date()
    clock.set(fires)
    report = timer(container, "retention_brands")
    programme.assert_all_erased()
    counts = report["brands"][BRAND]["programme_suspension"]
    assert counts["erased"] == 4 and counts["failed"] == 0  # two members, the leaver's names, the external user
    # The full erasures are journalled, so a restored backup loses the names of roles 1-6 again.
    entries = journal_ids(container)
    hasher = container.hasher(BRAND)
    for member_id in ("vendor", "leaver"):
        assert journal.entry_id(journal.subject_hash(hasher, "member", member_id), "member", "full") in entries
    assert len(outbox(container, "programme_suspension")) == 2  # warned once, never again


def test_at_the_cap_instant_itself_the_data_is_gone(programme, container, clock):
    programme.set_status("suspended")
    clock.set(CAP)
    timer(container, "retention_brands")
    programme.assert_all_erased()


@pytest.mark.parametrize(("status", "due"), [("suspended", CAP), ("contract_ended", CONTRACT_END_DUE)])
def test_both_brand_wide_rules_erase_all_and_a_second_run_changes_nothing(programme, container, clock, status, due):
    programme.set_status(status)
    clock.set(due - JUST_BEFORE)
    timer(container, "retention_brands")
    programme.assert_all_kept()
    clock.set(due)
    timer(container, "retention_brands")
    programme.assert_all_erased()
    erased = programme.snapshot()
    for later in (timedelta(hours=1), timedelta(days=1), timedelta(days=400)):
        clock.set(due + later)
        for name in ("retention_brands", "retention_members", "retention_external_users", "retention_contacts"):
            timer(container, name)
    assert programme.snapshot() == erased


def test_a_dry_run_at_the_cap_lists_the_erasures_and_changes_nothing(programme, container, clock):
    from shared.gdpr.retention import nightly

    programme.set_status("suspended")
    timer(container, "retention_brands")
    clock.set(CAP)
    before = programme.snapshot()
    report = nightly.run(container=container, family="brands", dry_run=True)
    assert programme.snapshot() == before
    planned = {entry["id"] for entry in report["planned"][BRAND]["programme_suspension"]}
    assert {"amb", "vendor", "leaver", programme.visitor} <= planned
    assert {programme.contacts[key] for key in ("amb-brand", "vendor-brand", "leaver-brand")} <= planned


def test_what_the_brands_platform_sends_after_the_cap_goes_the_next_night(programme, container, clock):
    programme.set_status("suspended")
    clock.set(CAP)
    timer(container, "retention_brands")
    clock.set(CAP + timedelta(hours=5))
    made = sync_member(programme.client, programme.key, clock.now(), ssoSubject="late-1", email="late@example.com",
                       firstName="Lea", lastName="Late", role=3, **TERMS)
    assert made.status_code == 201, made.text
    clock.set(CAP + timedelta(days=1, hours=1, minutes=30))
    timer(container, "retention_brands")
    late = programme.member(made.json()["memberId"])
    assert late["status"] == "erased" and late.get("email") is None and late.get("lastName") is None


def test_resuming_before_the_cap_keeps_everything(programme, container, clock):
    programme.set_status("suspended")
    timer(container, "retention_brands")
    clock.set(CAP - timedelta(hours=3))
    assert programme.set_status("active").json()["status"] == "active"
    for day in range(0, 200, 10):
        clock.set(CAP + timedelta(days=day, hours=1, minutes=30))
        timer(container, "retention_brands")
    programme.assert_all_kept()
    assert len(outbox(container, "programme_suspension")) == 2


def test_suspending_again_and_again_at_once_keeps_the_first_date(programme, container, clock):
    """An operator's retried call (or two at once) must not restart the six months."""
    operator = programme.operator
    answers = in_parallel(4, lambda: programme.client.put(f"{MANAGER}/status", headers=operator,
                                                          json={"status": "suspended"}))
    assert [answer.status_code for answer in answers] == [200] * 4
    clock.set(datetime(2030, 12, 1, tzinfo=UTC))
    programme.set_status("suspended")
    timer(container, "retention_brands")
    notices = outbox(container, "programme_suspension")
    assert len(notices) == 2 and all("1 March 2031" in mail["text"] for mail in notices)
    clock.set(CAP)
    timer(container, "retention_brands")
    programme.assert_all_erased()


# --- leaving a suspended programme by the notice's link ------------------------------------------------


def _leave_token(mail):
    import re

    match = re.search(rf"/app/{BRAND}/unsubscribe/leave#token=([A-Za-z0-9_-]+)", mail["text"])
    assert match
    return match.group(1)


def _leave(programme, token):
    return programme.client.post(f"{APP}/me/unsubscribe/by-link", json={"token": token})


def _suspended_with_notices(programme, container):
    programme.set_status("suspended")
    timer(container, "retention_brands")
    return {mail["toEmail"]: mail for mail in outbox(container, "programme_suspension")}


def test_a_member_leaves_a_suspended_programme_by_the_notices_link_and_is_erased_after_the_delay(
        programme, container, clock):
    notices = _suspended_with_notices(programme, container)
    refused = programme.client.post(f"{APP}/auth/login", json={"email": "amb@example.com", "password": "whatever-1"})
    assert refused.status_code == 403  # a suspended programme takes no sign-in: the link is the way out
    token = _leave_token(notices["amb@example.com"])
    assert _leave(programme, "forged").status_code == 422
    left = _leave(programme, token)
    assert left.status_code == 202, left.text
    assert left.json() == {"status": "unsubscribed", "erasureDueAt": "2030-09-08T10:00:00Z"}
    assert _leave(programme, token).status_code == 410  # once
    confirmations = [mail["toEmail"] for mail in outbox(container, "unsubscription_confirmation")]
    assert confirmations.count("amb@example.com") == 1  # with its link to take it back
    clock.set(datetime(2030, 9, 8, 10, 0, tzinfo=UTC))
    timer(container, "retention_members")
    assert programme.member("amb")["status"] == "erased" and programme.member("amb").get("email") is None
    assert programme.contact("amb-brand")["email"] == "brand@example.com"  # kept for the brand until the cap
    assert programme.contact("amb-storage")["email"] is None
    assert programme.member("vendor")["status"] == "active"  # only who left


def test_a_double_click_on_the_leave_link_unsubscribes_once(programme, container, monkeypatch):
    from tests.races import overlap_reads

    token = _leave_token(_suspended_with_notices(programme, container)["vendor@example.com"])
    overlap_reads(monkeypatch, "find", "action_tokens", 2)  # both clicks check the link before either uses it
    answers = in_parallel(2, lambda: _leave(programme, token))
    assert [answer.status_code for answer in answers] == [202, 202]
    assert programme.member("vendor")["status"] == "unsubscribed"
    confirmations = [mail["toEmail"] for mail in outbox(container, "unsubscription_confirmation")]
    assert confirmations.count("vendor@example.com") == 1
    assert _leave(programme, token).status_code == 410


def test_a_crash_before_the_leave_link_is_used_up_leaves_it_working(programme, container, monkeypatch):
    from tests.races import CrashPoint

    token = _leave_token(_suspended_with_notices(programme, container)["vendor@example.com"])
    crash = CrashPoint(monkeypatch, ["action_tokens"])
    crash.during(2, lambda: _leave(programme, token))  # the cancel link's token is written, then this one is used up
    assert crash.fired and programme.member("vendor")["status"] == "unsubscribed"
    again = _leave(programme, token)
    assert again.status_code == 202 and again.json()["status"] == "unsubscribed"
    assert _leave(programme, token).status_code == 410


def test_the_leave_link_works_for_its_brand_and_member_only_and_not_past_the_cap(
        programme, container, clock, manager_token):
    token = _leave_token(_suspended_with_notices(programme, container)["vendor@example.com"])
    other = programme.client.post("/api/v1/manager/brands", headers=programme.operator,
                                  json={"id": "globex", "name": "Globex"})
    assert other.status_code == 201
    crossed = programme.client.post("/api/v1/app/globex/me/unsubscribe/by-link", json={"token": token})
    assert crossed.status_code == 422
    unknown = programme.client.post("/api/v1/app/nobody/me/unsubscribe/by-link", json={"token": token})
    assert unknown.status_code == 404
    clock.set(CAP)
    assert _leave(programme, token).status_code == 410
    assert programme.member("vendor")["status"] == "active"


# --- the cap in calendar months --------------------------------------------------------------------


def _cap(changed_at, months=6):
    from shared.brands.models import RetentionSettings
    from shared.gdpr.retention.rules import suspension_cap

    return suspension_cap(changed_at, RetentionSettings(suspension_max_months=months))


@pytest.mark.parametrize(("suspended", "months", "erased_from"), [
    (datetime(2030, 9, 1, 0, 0, tzinfo=UTC), 6, datetime(2031, 3, 1, tzinfo=UTC)),
    (datetime(2030, 9, 1, 23, 59, tzinfo=UTC), 6, datetime(2031, 3, 1, tzinfo=UTC)),
    (datetime(2030, 8, 31, 12, 0, tzinfo=UTC), 6, datetime(2031, 2, 28, tzinfo=UTC)),  # no 31 February
    (datetime(2031, 8, 31, 12, 0, tzinfo=UTC), 6, datetime(2032, 2, 29, tzinfo=UTC)),  # leap year
    (datetime(2031, 8, 29, 12, 0, tzinfo=UTC), 6, datetime(2032, 2, 29, tzinfo=UTC)),
    (datetime(2030, 8, 29, 12, 0, tzinfo=UTC), 6, datetime(2031, 2, 28, tzinfo=UTC)),
    (datetime(2030, 12, 31, 8, 0, tzinfo=UTC), 2, datetime(2031, 2, 28, tzinfo=UTC)),
    (datetime(2030, 10, 31, 8, 0, tzinfo=UTC), 1, datetime(2030, 11, 30, tzinfo=UTC)),
    (datetime(2030, 1, 15, 8, 0, tzinfo=UTC), 1, datetime(2030, 2, 15, tzinfo=UTC)),
    # The day of suspension is the UTC day: 1 September 01:30 in Paris is still 31 August.
    (datetime.fromisoformat("2030-09-01T01:30:00+02:00"), 6, datetime(2031, 2, 28, tzinfo=UTC)),
])
def test_the_cap_is_calendar_months_from_the_day_of_suspension(suspended, months, erased_from):
    assert _cap(suspended, months) == erased_from


def test_the_cap_never_exceeds_six_months_and_old_settings_in_days_still_read():
    from pydantic import ValidationError

    from shared.brands.models import RetentionSettings

    with pytest.raises(ValidationError):
        RetentionSettings.model_validate({"suspensionMaxMonths": 7})
    # A brand stored before months: the old default (183 days) is the guide's six months, a shorter one stays shorter.
    assert [RetentionSettings.model_validate({"suspensionMaxDays": days}).suspension_max_months
            for days in (183, 90, 60, 20)] == [6, 3, 2, 1]
    assert RetentionSettings.model_validate({"suspensionMaxDays": 183, "suspensionMaxMonths": 2}
                                            ).suspension_max_months == 2


def test_a_brand_stored_with_days_reads_and_saves_as_months(client, container, manager_token):
    from shared.brands import service as brands

    assert client.post("/api/v1/manager/brands", headers=manager_token("operator"),
                       json={"id": BRAND, "name": "Acme"}).status_code == 201
    registry = container.store.for_brand("platform")
    doc = registry.get("brands", BRAND)
    legacy = {key: value for key, value in doc["retention"].items() if key != "suspensionMaxMonths"}
    registry.replace("brands", {**{k: v for k, v in doc.items() if not k.startswith("_")},
                                "retention": {**legacy, "suspensionMaxDays": 90}}, etag=doc["_etag"])
    admin = manager_token("admin", BRAND)
    assert client.get(MANAGER, headers=admin).json()["retention"]["suspensionMaxMonths"] == 3
    changed = client.patch(MANAGER, headers=admin, json={"retention": {"inactivityDays": 700}})
    assert changed.status_code == 200 and changed.json()["retention"]["suspensionMaxMonths"] == 3
    assert "suspensionMaxDays" not in registry.get("brands", BRAND)["retention"]
    assert brands.get(store=container.store, brand_id=BRAND).retention.suspension_max_months == 3


@pytest.mark.parametrize(("retention", "named"), [({"suspensionMaxDays": 90}, "suspensionMaxMonths"),
                                                  ({"suspensionMaxMonths": 7}, "retention.suspensionMaxMonths"),
                                                  ({"keepForeverDays": 1}, "keepForeverDays")])
def test_a_cap_in_days_longer_than_six_months_or_unknown_is_refused_and_nothing_changes(
        client, manager_token, retention, named):
    assert client.post("/api/v1/manager/brands", headers=manager_token("operator"),
                       json={"id": BRAND, "name": "Acme"}).status_code == 201
    admin = manager_token("admin", BRAND)
    before = client.get(MANAGER, headers=admin).json()
    refused = client.patch(MANAGER, headers=admin, json={"retention": retention})
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    assert named in refused.text
    after = client.get(MANAGER, headers=admin).json()
    assert after["retention"] == before["retention"]


# --- a sweep killed at any write ---------------------------------------------------------------------


class Died(BaseException):
    """The process killed mid-run: nothing in the run catches it."""


def _seed_world(container):
    """A suspended brand past its cap: members (one erased earlier with its names), contacts, an external user."""
    from shared.brands import service as brands
    from shared.brands.models import BrandCreate
    from shared.crm import service as contacts
    from shared.crm.consent import BrandOptIn, MemberOptIn
    from shared.crm.models import ChangeHistory, Contact, ContactSource
    from shared.gdpr import erasure

    clock = container.clock
    brands.create(store=container.store, clock=clock, data=BrandCreate(id=BRAND, name="Acme"))
    store, hasher = container.store.for_brand(BRAND), container.hasher(BRAND)
    for member_id, role in (("a1", Role.AMBASSADOR), ("a2", Role.AMBASSADOR), ("e1", Role.EMPLOYEE),
                            ("e2", Role.MANAGER), ("gone", Role.VENDOR)):
        add_member(container, member_id=member_id, role=role, alias=member_id)
    brand = brands.get(store=container.store, brand_id=BRAND)
    for index, (member_id, opt_in) in enumerate([("a1", BrandOptIn.STORAGE_ONLY), ("a1", BrandOptIn.BRAND_DATABASE),
                                                 ("e1", BrandOptIn.NO_OPT_IN), ("gone", BrandOptIn.INTERNAL_FORM),
                                                 ("gone", BrandOptIn.BLOG), ("orphan", BrandOptIn.EXTERNAL_FORM)]):
        email = f"c{index}@example.com"
        contact = Contact(id=f"c{index}", member_id=member_id, first_name="Zoe", email=email,
                          email_hash=hasher("email", email), member_opt_in=MemberOptIn.INVITATION_ACCEPTED,
                          brand_opt_in=opt_in, history=ChangeHistory(created_by=ContactSource.BRAND_SYNC,
                                                                     created_at=clock.now()))
        store.create(contacts.CONTACTS, contacts.to_document(contact, brand))
    erasure.erase_member(store=store, blobs=container.blobs, hasher=hasher, member_id="gone", now=clock.now(),
                         events=container.events, rule="member_unsubscribed")
    data = visitors.VisitorCreate.model_validate({"acceptWidgetPolicy": True, "widgetPolicyVersion": "v1",
                                                  "acceptServiceTerms": True, "serviceTermsVersion": "v1",
                                                  "firstName": "Zoe", "emailTmp": "zoe@example.com"})
    for _ in range(3):
        visitors.create_temporary_account(store=store, hasher=hasher, data=data, now=clock.now())
    brands.set_status(store=container.store, clock=clock, brand_id=BRAND, status="suspended")
    return store


def _assert_everything_erased_once(container, store):
    members = store.query_all(repository.MEMBERS)
    assert {doc["status"] for doc in members} == {"erased"}
    assert all(doc.get(name) is None for doc in members for name in NAMES)
    assert {(doc["status"], doc["email"]) for doc in store.query_all("contacts")} == {("erased", None)}
    assert {doc["status"] for doc in store.query_all(repository.VISITORS)} == {"erased"}
    hasher = container.hasher(BRAND)

    def entry(member_id, full=False):
        return journal.entry_id(journal.subject_hash(hasher, "member", member_id), "member", "full" if full else None)

    # Members of role 0 once; roles 1-6 once fully; the one erased before, once each way; three external users.
    expected = {entry("a1"), entry("a2"), entry("gone"), entry("e1", True), entry("e2", True), entry("gone", True)}
    entries = journal_ids(container, "member", "visitor")
    assert expected <= entries and len(entries - expected) == 3
    # Every contact erased is journalled once, so a restored backup erases it again.
    assert len(journal_ids(container, "contact")) == len(store.query_all("contacts"))


def test_a_sweep_killed_at_any_write_is_finished_by_the_next_run_and_changes_nothing_after(
        tmp_path, monkeypatch):
    from popsell.bootstrap import build_container, set_container
    from shared.clock import SettableClock
    from shared.config import Settings
    from shared.gdpr.retention import brandwide
    from tests import races

    monkeypatch.setattr(brandwide, "PAGE_SIZE", 2)  # pages of two: the crash falls mid-page and between pages
    monkeypatch.setattr(races, "Crash", Died)
    crash = races.CrashPoint(monkeypatch, [repository.MEMBERS, repository.VISITORS, "contacts", "retention_runs",
                                           journal.CONTAINER, "identity_keys", "auth_sessions"])
    at = 0
    while True:
        at += 1
        settings = Settings(env="local", data_dir=tmp_path / f"world-{at}", demo_brand=False, redirect_flush_ms=0)
        container = build_container(settings, clock=SettableClock(SUSPENDED_ON))
        set_container(container)
        try:
            store = _seed_world(container)
            container.clock.set(CAP)
            crash.during(at, lambda container=container: timer_jobs()["retention_brands"].run(container, False))
            if not crash.fired:
                break
            container.clock.set(CAP + timedelta(days=1))  # the next night's run; a claimed erasure's lease is over
            timer(container, "retention_brands")
            _assert_everything_erased_once(container, store)
            erased = sorted(store.query_all(repository.MEMBERS) + store.query_all("contacts"),
                            key=lambda doc: doc["id"])
            container.clock.set(CAP + timedelta(days=2))
            timer(container, "retention_brands")
            assert sorted(store.query_all(repository.MEMBERS) + store.query_all("contacts"),
                          key=lambda doc: doc["id"]) == erased
        finally:
            set_container(None)
    assert at > 30  # every write of the sweep was a crash point: journal, members, names, visitors, contacts, progress


def test_the_brands_manager_users_are_journalled_and_a_restored_copy_loses_them_again(programme, container, clock):
    programme.set_status("contract_ended")
    admin = programme.store.get(repository.MANAGER_USERS, f"mu-admin-{BRAND}")  # as a backup holds it
    clock.set(CONTRACT_END_DUE)
    timer(container, "retention_brands")
    assert programme.store.get(repository.MANAGER_USERS, admin["id"])["email"] is None
    assert journal.entry_id(journal.subject_hash(container.hasher(BRAND), "manager_user", admin["id"]),
                            "manager_user") in journal_ids(container, "manager_user")

    # A restore brings the admin back in clear; the journal replay erases them again, once.
    programme.store.upsert(repository.MANAGER_USERS, {k: v for k, v in admin.items() if not k.startswith("_")})
    assert programme.client.get(f"{MANAGER}/users", headers=programme.operator).json()["items"] != []
    replayed = journal_replay.replay(store=container.store, blobs=container.blobs, hasher_for=container.hasher,
                              events=container.events, since=CONTRACT_END_DUE - timedelta(days=1), now=clock.now())
    assert replayed[BRAND]["erasedAgain"] == 1
    assert programme.store.get(repository.MANAGER_USERS, admin["id"])["email"] is None
    again = journal_replay.replay(store=container.store, blobs=container.blobs, hasher_for=container.hasher,
                           events=container.events, since=CONTRACT_END_DUE - timedelta(days=1), now=clock.now())
    assert again[BRAND]["erasedAgain"] == 0
