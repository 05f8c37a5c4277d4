"""Contact erasures, opt-outs and black-list entries are journalled first, once, and without personal data."""

from __future__ import annotations

import json
from datetime import timedelta

from shared.crm import blacklist, contact_journal, unsubscribe
from shared.gdpr import journal, journal_replay
from tests.conftest import T0
from tests.crm import test_contacts_api as _api
from tests.races import CrashPoint, in_parallel

crm_client = _api.crm_client  # the shared fixtures
members = _api.members
BRAND, CONTACTS = _api.BRAND, _api.CONTACTS


def entries(container):
    return container.journal(BRAND).entries(since=T0 - timedelta(days=1))


def add_contact(client, headers, email="zoe@example.com"):
    response = client.post(CONTACTS, headers=headers, json={"email": email, "firstName": "Zoe", "notes": "met at fair"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_an_erased_contact_is_journalled_by_ids_and_rule_only(crm_client, container, members):
    contact_id = add_contact(crm_client, members["m1"])
    assert crm_client.delete(f"{CONTACTS}/{contact_id}", headers=members["m1"]).status_code == 204
    [entry] = entries(container)
    assert entry == {"id": f"contact-{entry['subjectHash']}", "at": "2030-01-01T09:00:00Z", "subjectId": contact_id,
                     "subjectHash": journal.subject_hash(container.hasher(BRAND), "contact", contact_id),
                     "subjectType": "contact", "rule": contact_journal.DELETED_BY_MEMBER}
    stored = container.store.for_brand(BRAND).get("contacts", contact_id)
    # The erased contact names the rule, not the member (who is its memberId already).
    assert stored["history"]["modifiedBy"] == contact_journal.DELETED_BY_MEMBER and stored["status"] == "erased"
    # Deleting again is a 404 and journals nothing more.
    assert crm_client.delete(f"{CONTACTS}/{contact_id}", headers=members["m1"]).status_code == 404
    assert len(entries(container)) == 1


def test_a_crash_after_the_journal_leaves_an_erasure_a_retry_or_a_replay_completes(crm_client, container, members,
                                                                                  monkeypatch):
    contact_id = add_contact(crm_client, members["m1"])
    crash = CrashPoint(monkeypatch, ["contacts"])
    crash.during(1, lambda: crm_client.delete(f"{CONTACTS}/{contact_id}", headers=members["m1"]))
    assert crash.fired
    store = container.store.for_brand(BRAND)
    assert store.get("contacts", contact_id)["status"] == "active"  # the write never happened
    [entry] = entries(container)  # but the erasure is known
    report = journal_replay.replay(store=container.store, blobs=container.blobs, hasher_for=container.hasher, since=T0,
                            events=container.events, now=container.clock.now())
    assert report[BRAND]["erasedAgain"] == 1
    erased = store.get("contacts", contact_id)
    assert erased["status"] == "erased" and erased["notes"] is None and erased["firstName"] is None
    assert entries(container) == [entry]


def test_deletions_at_once_erase_and_journal_once(crm_client, container, members):
    contact_id = add_contact(crm_client, members["m1"])
    answers = in_parallel(4, lambda: crm_client.delete(f"{CONTACTS}/{contact_id}", headers=members["m1"]).status_code)
    assert answers.count(204) >= 1 and set(answers) <= {204, 404, 412}  # a lost race: 412, nothing written
    assert container.store.for_brand(BRAND).get("contacts", contact_id)["status"] == "erased"
    assert [entry["subjectType"] for entry in entries(container)] == ["contact"]


def test_a_global_opt_out_journals_the_opt_out_and_the_hash_once(crm_client, container, members):
    contact_id = add_contact(crm_client, members["m1"])
    token = unsubscribe.make_token(container.settings, brand_id=BRAND, contact_id=contact_id, member_id="m1")
    link = f"/api/v1/app/{BRAND}/unsubscribe/{token}"
    answers = in_parallel(3, lambda: crm_client.post(link, params={"scope": "brand"}).status_code)
    assert set(answers) <= {200, 412} and 200 in answers
    hashed = container.store.for_brand(BRAND).get("contacts", contact_id)["emailHash"]
    found = {(entry["subjectType"], entry["rule"]) for entry in entries(container)}
    assert found == {("blacklist", "global_opt_out"), ("contact_opt_out", "member:global_opt_out")}
    [listed] = [entry for entry in entries(container) if entry["subjectType"] == "blacklist"]
    assert listed["subjectId"] == listed["subjectHash"] == hashed
    assert "zoe" not in json.dumps(entries(container)).lower()
    # Used again later: nothing more to journal.
    container.clock.advance(timedelta(days=2))
    assert crm_client.post(link, params={"scope": "brand"}).status_code == 200
    assert len(entries(container)) == 2


def test_a_brand_opt_out_after_a_new_opt_in_is_journalled_again(container):
    from shared.crm.consent import BrandOptIn, MemberOptIn
    from shared.crm.models import ChangeHistory, Contact, ContactSource

    ledger = container.journal(BRAND)
    now = container.clock.now()
    opted_in = Contact(id="ct-1", member_id="m1", member_opt_in=MemberOptIn.OPT_IN_BRAND_IMPORTED,
                       brand_opt_in=BrandOptIn.BRAND_DATABASE,
                       history=ChangeHistory(created_by=ContactSource.BRAND_SYNC, created_at=now))
    opted_out = opted_in.model_copy(update={"brand_opt_in": BrandOptIn.NO_OPT_IN})
    contact_journal.record_opt_outs(journal=ledger, before=opted_in, after=opted_out, now=now)
    contact_journal.record_opt_outs(journal=ledger, before=opted_in, after=opted_out,
                                    now=now)  # a retry at the same time: once
    contact_journal.record_opt_outs(journal=ledger, before=opted_in, after=opted_in, now=now)  # no opt-out: nothing
    contact_journal.record_opt_outs(journal=ledger, before=opted_in, after=opted_out, now=now + timedelta(minutes=3))
    assert [entry["rule"] for entry in entries(container)] == ["brand:no_opt_in"] * 2


def test_a_blacklisted_hash_is_journalled_once_per_reason(container):
    store, ledger = container.store.for_brand(BRAND), container.journal(BRAND)
    for reason in (blacklist.BlacklistReason.HARD_BOUNCE, blacklist.BlacklistReason.HARD_BOUNCE,
                   blacklist.BlacklistReason.SPAM):
        blacklist.add(store=store, email_hash="a" * 64, reason=reason, now=container.clock.now(), journal=ledger)
        container.clock.advance(timedelta(days=1))
    assert [entry["rule"] for entry in entries(container)] == ["hard_bounce", "spam"]
