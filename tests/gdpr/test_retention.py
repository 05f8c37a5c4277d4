"""Retention rules on the real store, the clock moved day by day: who is warned, who is erased, and when."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared.brands import service as brands
from shared.brands.models import BrandCreate
from shared.gdpr.retention import nightly, runner
from shared.identity import lifecycle, repository, visitors
from shared.identity.models import Member, Role
from shared.store_schema import PLATFORM_SCOPE
from tests.builders import sent_emails

DAY = timedelta(days=1)
BRAND = "acme"


def make_brand(container, brand_id=BRAND, **settings):
    brand, _ = brands.create(store=container.store, clock=container.clock,
                             data=BrandCreate.model_validate({"id": brand_id, "name": "Acme", **settings}))
    return brand


def add_member(container, member_id="m1", brand_id=BRAND, status="active", **extra) -> Member:
    now = container.clock.now()
    member = Member(id=member_id, role=Role.AMBASSADOR, status=status, created_at=now, first_name="Ana",
                    last_name="Lima", email=f"{member_id}@example.com", email_verified_at=now,
                    last_activity_at=now, preferred_language="fr", **extra)
    lifecycle.save_member(store=container.store.for_brand(brand_id), member=member, etag=None)
    return member


def stored(container, member_id="m1", brand_id=BRAND, kind=repository.MEMBERS):
    return container.store.for_brand(brand_id).get(kind, member_id)


def outbox(container, brand_id=BRAND, template="retention_warning"):
    return sent_emails(container, brand_id, template)


def run(container, family=None, **kwargs):
    report = nightly.run(container=container, family=family, **kwargs)
    assert report["failedBrands"] == []
    return report


def test_an_unsubscribed_member_can_come_back_on_day_6_and_is_erased_on_day_7(container, clock):
    brand = make_brand(container)
    for member_id in ("stays", "goes"):
        add_member(container, member_id)
        lifecycle.unsubscribe(events=container.events, store=container.store.for_brand(BRAND), brand=brand,
                              member_id=member_id, now=clock.now())
    for _ in range(6):
        clock.advance(DAY)
        run(container, "members")
    assert stored(container, "goes")["status"] == "unsubscribed"
    lifecycle.cancel_unsubscription(events=container.events, store=container.store.for_brand(BRAND), brand=brand,
                                    member_id="stays", now=clock.now())
    clock.advance(DAY)
    report = run(container, "members")
    assert stored(container, "goes")["status"] == "erased" and stored(container, "goes").get("email") is None
    assert stored(container, "stays")["status"] == "active"
    assert report["brands"][BRAND]["member_unsubscribed"]["erased"] == 1


def test_an_inactive_member_is_warned_twice_then_erased_at_three_years(container, clock):
    make_brand(container)
    start = clock.now()
    add_member(container)
    clock.advance(timedelta(days=1000))
    run(container, "members")
    assert outbox(container) == []
    warned_on = {}
    for _ in range(100):
        clock.advance(DAY)
        run(container, "members")
        for mail in outbox(container):
            warned_on.setdefault(mail["messageId"], clock.now())
        if stored(container)["status"] == "erased":
            break
    erased_on = clock.now()
    assert erased_on.date() == (start + timedelta(days=1095)).date()
    assert sorted((at - start).days for at in warned_on.values()) == [1065, 1080]
    mails = outbox(container)
    assert len(mails) == 2 and {m["locale"] for m in mails} == {"fr"}
    assert all(m["toEmail"] == "m1@example.com" for m in mails)


def test_an_erasure_date_follows_the_brands_shorter_inactivity(container, clock):
    make_brand(container, retention={"inactivityDays": 365})
    start = clock.now()
    add_member(container)
    for _ in range(400):
        clock.advance(DAY)
        run(container, "members")
        if stored(container)["status"] == "erased":
            break
    assert (clock.now() - start).days == 365 and len(outbox(container)) == 2


def test_a_login_between_the_warnings_cancels_the_erasure(client, container, clock, monkeypatch):
    from shared.identity import passwords
    from tests.identity.test_auth_support import EMAIL, login, sign_up_and_verify
    from tests.identity.test_auth_support import make_brand as auth_brand

    monkeypatch.setattr(passwords, "BCRYPT_COST", 4)
    auth_brand(container)
    sign_up_and_verify(client, container)
    store = container.store.for_brand(BRAND)
    member_id = repository.owner_of(store=store, kind="email", hashed=container.hasher(BRAND)("email", EMAIL))
    clock.advance(timedelta(days=1066))
    run(container, "members")
    assert len(outbox(container)) == 1
    clock.advance(timedelta(days=5))
    assert login(client).status_code == 200
    for _ in range(60):
        clock.advance(DAY)
        run(container, "members")
    assert stored(container, member_id)["status"] == "active"
    assert len(outbox(container)) == 1  # no second warning: the clock started again at the login


def test_an_external_user_is_erased_after_three_years_without_interaction_unless_they_interact(container, clock):
    make_brand(container)
    store = container.store.for_brand(BRAND)
    hasher = container.hasher(BRAND)
    data = visitors.VisitorCreate.model_validate({"acceptWidgetPolicy": True, "widgetPolicyVersion": "v1",
                                                  "acceptServiceTerms": True, "serviceTermsVersion": "v1",
                                                  "firstName": "Zoe", "emailTmp": "zoe@example.com"})
    quiet = visitors.create_temporary_account(store=store, hasher=hasher, data=data, now=clock.now())
    chatty = visitors.create_temporary_account(store=store, hasher=hasher, data=data, now=clock.now())
    clock.advance(timedelta(days=1094))
    visitors.record_interaction(store=store, visitor_id=chatty.id, now=clock.now())
    run(container, "external_users")
    assert stored(container, quiet.id, kind=repository.VISITORS)["status"] == "active"
    clock.advance(DAY)
    report = run(container, "external_users")
    gone = stored(container, quiet.id, kind=repository.VISITORS)
    assert gone["status"] == "erased" and gone.get("emailTmp") is None and gone.get("firstName") is None
    assert stored(container, chatty.id, kind=repository.VISITORS)["status"] == "active"
    assert report["brands"][BRAND]["external_user_inactive"]["erased"] == 1
    assert outbox(container, template="retention_warning") == []


def test_a_brands_contract_end_erases_everyone_of_that_brand_and_no_one_else(container, clock):
    make_brand(container)
    make_brand(container, "other")
    for member_id in ("a1", "a2"):
        add_member(container, member_id)
    add_member(container, "b1", brand_id="other")
    brands.set_status(store=container.store, clock=clock, brand_id=BRAND, status="contract_ended")
    for _ in range(6):
        clock.advance(DAY)
        run(container, "brands")
    assert stored(container, "a1")["status"] == "active"
    clock.advance(DAY)
    run(container, "brands")
    assert [stored(container, m)["status"] for m in ("a1", "a2")] == ["erased", "erased"]
    assert stored(container, "a1").get("lastName") is None  # the full erasure of a brand's end
    assert stored(container, "b1", brand_id="other")["status"] == "active"


def test_setting_the_brand_active_again_before_the_delay_keeps_everyone(container, clock):
    make_brand(container)
    add_member(container)
    brands.set_status(store=container.store, clock=clock, brand_id=BRAND, status="contract_ended")
    clock.advance(6 * DAY)
    brands.set_status(store=container.store, clock=clock, brand_id=BRAND, status="active")
    clock.advance(30 * DAY)
    run(container, "brands")
    assert stored(container)["status"] == "active"


@pytest.mark.parametrize("resumed", [False, True])
def test_a_suspension_warns_once_and_erases_at_the_cap_unless_resumed(container, clock, resumed):
    make_brand(container, retention={"suspensionMaxMonths": 2})  # 1 January 09:00 -> 1 March 00:00
    add_member(container)
    brands.set_status(store=container.store, clock=clock, brand_id=BRAND, status="suspended")
    for day in range(59):
        if resumed and day == 30:
            brands.set_status(store=container.store, clock=clock, brand_id=BRAND, status="active")
        run(container, "brands")
        clock.advance(DAY)
    assert clock.now().isoformat().startswith("2030-03-01T09")
    run(container, "brands")
    notices = outbox(container, template="programme_suspension")
    assert len(notices) == 1 and notices[0]["locale"] == "fr"
    assert "Unsubscribe" in notices[0]["text"] or "désinscrire" in notices[0]["text"]
    assert stored(container)["status"] == ("active" if resumed else "erased")


class Crash(BaseException):
    """The process dying mid-run (not an error the runner contains)."""


def _members_due_for_a_warning(container, clock, count):
    make_brand(container)
    for index in range(count):
        add_member(container, f"m{index}")
    clock.advance(timedelta(days=1066))


def test_a_run_interrupted_halfway_then_run_again_warns_everyone_exactly_once(container, clock):
    _members_due_for_a_warning(container, clock, 10)
    from shared.emails.service import enqueue_email

    calls = []

    def crashing(**kwargs):
        calls.append(kwargs["message_id"])
        if len(calls) == 5:
            raise Crash
        return enqueue_email(**kwargs)

    with pytest.raises(Crash):
        nightly.run(container=container, family="members", enqueue=crashing)
    run(container, "members")
    run(container, "members")
    mails = outbox(container)
    assert sorted(m["toEmail"] for m in mails) == sorted(f"m{i}@example.com" for i in range(10))
    assert {stored(container, f"m{i}")["retention"]["step"] for i in range(10)} == {"warning_2"}


def test_two_overlapping_runs_send_nothing_twice(container, clock):
    _members_due_for_a_warning(container, clock, 4)
    store = container.store.for_brand(BRAND)
    stale = store.query_all("members", order_by="id")  # what a second run read before the first wrote
    run(container, "members")
    brand = brands.get(store=container.store, brand_id=BRAND)
    second = runner.RunContext(container=container, now=clock.now(), dry_run=False)
    for doc in stale:
        runner.process(run=runner.BrandRun(second, brand, store), container="members", doc=doc)
    assert len(outbox(container)) == 4
    assert sum(c["warned"] for c in second.counts[BRAND].values()) == 0


def test_a_dry_run_lists_what_would_happen_and_changes_nothing(container, clock):
    _members_due_for_a_warning(container, clock, 2)
    store = container.store.for_brand(BRAND)
    before = store.query_all("members", order_by="id")
    report = nightly.run(container=container, dry_run=True)
    assert store.query_all("members", order_by="id") == before
    assert outbox(container) == []
    assert container.store.for_brand(PLATFORM_SCOPE).query_all("retention_runs") == []
    planned = report["planned"][BRAND]["member_inactive"]
    assert {(p["id"], p["action"]) for p in planned if p["action"] == "warn"} == {("m0", "warn"), ("m1", "warn")}


def test_the_stored_report_counts_per_rule_and_brand_without_personal_data(container, clock):
    _members_due_for_a_warning(container, clock, 2)
    report = run(container)
    [saved] = container.store.for_brand(PLATFORM_SCOPE).query_all("retention_runs")
    assert saved["id"] == report["id"] and saved["brands"][BRAND]["member_inactive"]["warned"] == 2
    text = json.dumps(saved)
    for personal in ("example.com", "Ana", "Lima", "m0", "m1"):
        assert personal not in text


def test_the_cli_runs_and_the_timers_call_the_runner_per_family(container, clock, monkeypatch, capsys, settings):
    from popsell.cli import main as cli
    from shared.gdpr.retention.jobs import JOBS

    assert [job.name for job in JOBS] == [
        "retention_brands", "retention_members", "retention_external_users", "retention_contacts"]
    _members_due_for_a_warning(container, clock, 1)
    planned = JOBS[1].run(container, True)["planned"][BRAND]["member_inactive"]
    assert [p["action"] for p in planned] == ["reschedule", "warn"]
    monkeypatch.setenv("POPSELL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("POPSELL_DEMO_BRAND", "false")
    code = cli.main(["--now", "2033-01-01T00:00:00Z", "retention", "run", "--family", "members", "--dry-run"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["dryRun"] is True and report["family"] == "members"
