"""The contacts' rights page through the API: proof of control by a one-time link, then every right at once."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from shared.crm import blacklist
from shared.emails.service import prepare_email
from shared.errors import InvalidInput
from shared.gdpr.contact_rights import PROOF_TTL, SESSION_TTL
from tests.gdpr import contact_world as _world
from tests.gdpr.contact_world import (
    BRAND,
    MAX,
    OTHER,
    PERSONAL,
    RIGHTS,
    ZOE,
    ask,
    ask_proof,
    contact,
    mails,
    member,
    open_session,
    proof_token,
    session,
    stored,
)
from tests.gdpr.test_rights_api import relative
from tests.races import CrashPoint, in_parallel

brand = _world.brand  # the shared fixture
MANAGER_GDPR = f"/api/v1/manager/brands/{BRAND}/gdpr"


def test_the_answer_is_the_same_for_a_known_and_an_unknown_address_and_only_a_known_one_gets_a_link(client, brand):
    contact(brand)
    known, unknown = ask_proof(client, ZOE), ask_proof(client, "nobody@example.com")
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json()) == (202, {"accepted": True})
    sent = mails(brand)
    assert [(mail["template"], mail["toEmail"]) for mail in sent] == [("contact_rights_link", ZOE)]
    # The link rides in the fragment of the rights page, and that email carries the page's link as well.
    assert re.search(rf"/contacts/{BRAND}/rights#token=[A-Za-z0-9_-]+", sent[0]["text"])
    assert f"/contacts/{BRAND}/rights\n" in sent[0]["text"] or f"/contacts/{BRAND}/rights " in sent[0]["text"]


def test_the_proof_link_opens_one_session_only_and_expires(client, brand, clock):
    contact(brand)
    token = proof_token(client, brand)
    first = open_session(client, token)
    assert first.status_code == 201 and first.json()["expiresAt"] == "2030-01-01T09:30:00Z"
    again = open_session(client, token)
    assert again.status_code == 410 and again.headers["content-type"].startswith("application/problem+json")

    clock.advance(PROOF_TTL)  # a new link may be asked once the last one stopped working
    late = proof_token(client, brand)
    clock.advance(PROOF_TTL + timedelta(seconds=1))
    assert open_session(client, late).status_code == 410
    assert open_session(client, "forged-token").status_code == 404


def test_another_brands_link_or_session_answers_404(client, brand):
    contact(brand)
    contact(brand, brand_id=OTHER)
    acme_token = proof_token(client, brand)
    assert open_session(client, acme_token, brand_id=OTHER).status_code == 404
    assert open_session(client, acme_token).status_code == 201  # not used up by the other brand's refusal
    globex = session(client, brand, brand_id=OTHER)
    assert client.get(f"{RIGHTS}/session", headers=globex).status_code == 404
    assert client.get(f"{RIGHTS}/requests", headers=globex).status_code == 404
    assert client.get(f"{RIGHTS}/session").status_code == 401
    assert client.get(f"{RIGHTS}/session", headers=member(brand)).status_code == 401  # an App token is not one


def test_parallel_proof_requests_send_at_most_one_email(client, brand):
    contact(brand)
    answers = in_parallel(8, lambda: ask_proof(client, ZOE).status_code)
    assert answers == [202] * 8
    assert len(mails(brand, "contact_rights_link", ZOE)) == 1


def test_one_client_address_cannot_flood_the_page(client, brand):
    statuses = [ask_proof(client, f"someone{n}@example.com").status_code for n in range(11)]
    assert statuses == [202] * 10 + [429]


def test_the_session_lasts_thirty_minutes(client, brand, clock):
    contact(brand)
    headers = session(client, brand)
    assert client.get(f"{RIGHTS}/session", headers=headers).json() == {"restricted": False, "restrictedSince": None}
    clock.advance(SESSION_TTL)
    assert client.get(f"{RIGHTS}/session", headers=headers).status_code == 401


def test_an_export_holds_every_record_of_the_address_with_the_members_notes_and_works_48_hours(client, brand, clock):
    mine = contact(brand, tags=("vip", "lyon"))
    contact(brand, member_id="m2", first_name="Zoé")
    contact(brand, MAX)  # someone else
    noted = client.patch(f"/api/v1/app/{BRAND}/contacts/{mine.id}", headers=member(brand),
                         json={"notes": "Prefers the blue range"})
    assert noted.status_code == 200, noted.text
    headers = session(client, brand)

    request = ask(client, headers, kind="access")
    assert request.status_code == 201, request.text
    body = request.json()
    assert body["state"] == "done" and body["channel"] == "rights_page"
    assert [step["state"] for step in body["history"]] == ["received", "identity_verified", "in_progress", "done"]
    served = client.get(relative(body["downloadUrl"]))
    export = json.loads(served.content)
    assert export["format"] == "popsell.contact-data-export/1" and export["subject"]["kind"] == "contact"
    records = {record["memberId"]: record for record in export["contacts"]}
    assert set(records) == {"m1", "m2"}
    assert records["m1"]["notes"] == "Prefers the blue range" and records["m1"]["tags"] == ["lyon", "vip"]
    assert records["m1"]["email"] == ZOE and records["m2"]["firstName"] == "Zoé"
    assert records["m1"]["heldBy"] == {"memberId": "m1", "name": "Ana Lopes"}
    assert "brandVisible" not in records["m1"] and "retention" not in records["m1"]
    assert MAX not in served.text and "max.roy" not in served.text
    # The link is also emailed to the address, with the rights page in the footer.
    [ready] = mails(brand, "contact_rights_export_ready", ZOE)
    assert body["downloadUrl"] in ready["text"] and f"/contacts/{BRAND}/rights" in ready["text"]

    clock.advance(timedelta(hours=47, minutes=59))
    assert client.get(relative(body["downloadUrl"])).status_code == 200
    later = session(client, brand)  # a new session reads the same request, its link still working
    listed = client.get(f"{RIGHTS}/requests", headers=later).json()["items"]
    assert [item["id"] for item in listed] == [body["id"]] and listed[0]["downloadUrl"]
    clock.advance(timedelta(minutes=2))
    assert client.get(relative(body["downloadUrl"])).status_code == 404
    assert client.get(f"{RIGHTS}/requests/{body['id']}", headers=later).json()["downloadUrl"] is None


def test_a_rectification_corrects_every_record_of_the_address(client, brand):
    first, second = contact(brand), contact(brand, member_id="m2")
    headers = session(client, brand)
    answer = ask(client, headers, kind="rectification",
                 changes={"lastName": "Martinez", "address": {"city": "Paris", "postalCode": "75011"}})
    assert answer.status_code == 201 and answer.json()["state"] == "done", answer.text
    for record in (stored(brand, first.id), stored(brand, second.id)):
        assert (record["firstName"], record["lastName"]) == ("Zoe", "Martinez")
        assert record["address"] == {"city": "Paris", "postalCode": "75011", "country": None}
        assert record["history"]["modifiedBy"] == "contact"


def test_an_erasure_hashes_every_contact_with_that_address_and_nothing_else(client, brand):
    first, second, other = contact(brand), contact(brand, member_id="m2"), contact(brand, MAX)
    headers = session(client, brand)
    assert ask(client, headers, kind="restriction").status_code == 201
    answer = ask(client, headers, kind="erasure", reason="Please forget me, Zoe")
    assert answer.status_code == 201 and answer.json()["state"] == "done", answer.text
    assert answer.json()["reason"] is None  # the person's own words go with their data
    hashed = brand.hasher(BRAND)("email", ZOE)
    for record in (stored(brand, first.id), stored(brand, second.id)):
        assert record["status"] == "erased" and record["email"] is None and record["firstName"] is None
        assert record["emailHash"] == hashed and record["address"]["city"] == "Lyon"
    assert stored(brand, other.id)["status"] == "active"
    assert brand.store.for_brand(BRAND).find("restrictions", hashed) is None  # nothing left to restrict
    # Journalled, so a restored backup erases both records again (the rule names the request, not the person).
    journalled = [entry for entry in brand.journal(BRAND).entries(since=datetime(2000, 1, 1, tzinfo=UTC))
                  if entry["subjectType"] == "contact"]
    assert sorted(entry["subjectId"] for entry in journalled) == sorted([first.id, second.id])
    assert {entry["rule"] for entry in journalled} == {f"gdpr:{answer.json()['id']}"}
    # Nothing left to manage: the page asks no more link for the address.
    assert ask_proof(client, ZOE).status_code == 202
    assert len(mails(brand, "contact_rights_link", ZOE)) == 1


def test_an_objection_opts_the_address_out_of_every_member_and_the_brand(client, brand):
    first, second = contact(brand), contact(brand, member_id="m2")
    answer = ask(client, session(client, brand), kind="objection")
    assert answer.status_code == 201 and answer.json()["state"] == "done", answer.text
    for record in (stored(brand, first.id), stored(brand, second.id)):
        assert (record["memberOptIn"], record["brandOptIn"]) == ("global_opt_out", "no_opt_in")
    zoe_hash = brand.hasher(BRAND)("email", ZOE)
    assert blacklist.reasons(store=brand.store.for_brand(BRAND), email_hash=zoe_hash) == ["global_opt_out"]
    # Journalled: a restored backup opts both records out again and blacklists the address again.
    kinds = [entry["subjectType"] for entry in brand.journal(BRAND).entries(since=datetime(2000, 1, 1, tzinfo=UTC))]
    assert kinds.count("contact_opt_out") == 4 and kinds.count("blacklist") == 1
    # No member can enter the address again.
    again = client.post(f"/api/v1/app/{BRAND}/contacts", headers=member(brand, "m2"), json={"email": ZOE})
    assert again.status_code == 409


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "rectification"}, "changes"),
    ({"kind": "access", "changes": {"firstName": "Zed"}}, "changes"),
    ({"kind": "rectification", "changes": {"email": "new@example.com"}}, "changes.email"),
    ({"kind": "rectification", "changes": {"address": {"street": "1 rue"}}}, "changes.address.street"),
    ({"kind": "deletion"}, "kind"),
    ({"kind": "access", "fields": ["email"]}, "fields"),
])
def test_a_bad_request_is_422_naming_the_field_and_records_nothing(client, brand, body, field):
    contact(brand)
    headers = session(client, brand)
    answer = ask(client, headers, **body)
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == field, answer.text
    assert client.get(f"{RIGHTS}/requests", headers=headers).json()["items"] == []
    assert ask_proof(client, "not an address").status_code == 422


def test_a_manager_admin_sees_a_contacts_requests_and_records_one_by_address(client, brand, manager_token):
    contact(brand)
    admin = manager_token("admin", BRAND)
    mine = ask(client, session(client, brand), kind="access").json()
    listed = client.get(f"{MANAGER_GDPR}/requests", headers=admin).json()["items"]
    [seen] = [item for item in listed if item["id"] == mine["id"]]
    hashed = brand.hasher(BRAND)("email", ZOE)
    assert (seen["subjectKind"], seen["subjectId"], seen["subjectHash"]) == ("contact", hashed, hashed)

    recorded = client.post(f"{MANAGER_GDPR}/requests", headers=admin, json={"contactEmail": ZOE, "kind": "objection"})
    assert recorded.status_code == 201 and recorded.json()["state"] == "received", recorded.text
    rid = recorded.json()["id"]
    assert client.post(f"{MANAGER_GDPR}/requests/{rid}/verify-identity", headers=admin).status_code == 200
    processed = client.post(f"{MANAGER_GDPR}/requests/{rid}/process", headers=admin)
    assert processed.status_code == 200 and processed.json()["state"] == "done"
    unknown = client.post(f"{MANAGER_GDPR}/requests", headers=admin,
                          json={"contactEmail": "nobody@example.com", "kind": "access"})
    assert unknown.status_code == 404
    both = client.post(f"{MANAGER_GDPR}/requests", headers=admin,
                       json={"contactEmail": ZOE, "memberId": "m1", "kind": "access"})
    assert both.status_code == 422 and both.json()["errors"][0]["field"] == "memberId"

    lines = client.get(f"{MANAGER_GDPR}/register", headers=admin, params={"subjectHash": hashed}).json()["items"]
    assert {line["action"] for line in lines} >= {"request_received", "export_created", "objection_recorded"}
    text = json.dumps(lines)
    assert all(clue not in text for clue in PERSONAL) and ZOE not in text


def test_every_email_a_contact_receives_links_the_rights_page_next_to_the_unsubscribe_link(client, brand):
    contact(brand)  # opted in: receives the campaign
    new = contact(brand, MAX, opted_in=False)  # new: receives an invitation
    headers = member(brand)
    sent = client.post(f"/api/v1/app/{BRAND}/campaigns", headers=headers, json={
        "title": "Spring", "text": "New pieces", "link": f"https://shop.{BRAND}.example/spring", "tags": ["vip"]})
    assert sent.status_code == 200 and sent.json()["sent"] == 1, sent.text  # Zoe (Max is not opted in)
    assert client.post(f"/api/v1/app/{BRAND}/contacts/{new.id}/invitation", headers=headers).status_code == 200
    rights_page = f"/contacts/{BRAND}/rights"
    for template in ("contact_publication", "contact_invitation"):
        [mail] = mails(brand, template)
        unsubscribe = re.search(rf"/api/v1/app/{BRAND}/unsubscribe/[A-Za-z0-9_.\-]+", mail["text"])
        assert unsubscribe and rights_page in mail["text"] and rights_page in mail["html"], template
        assert mail["headers"]["List-Unsubscribe"].endswith(f"{unsubscribe[0]}>")


def test_an_email_to_a_contact_without_the_rights_link_is_refused(brand):
    with pytest.raises(InvalidInput):
        prepare_email(brand_id=BRAND, template="test_email", to_email=ZOE, data={}, contact_id="ct-1",
                      settings=brand.settings)


def test_an_erasure_that_crashes_between_two_records_is_finished_by_an_admin(client, brand, manager_token,
                                                                            monkeypatch):
    first, second = contact(brand), contact(brand, member_id="m2")
    headers = session(client, brand)
    crash = CrashPoint(monkeypatch, ("contacts",))
    answer = crash.during(2, lambda: ask(client, headers, kind="erasure"))  # the second record's write
    assert crash.fired and (answer is None or answer.status_code == 500)
    assert sorted(stored(brand, one.id)["status"] for one in (first, second)) == ["active", "erased"]
    [open_request] = client.get(f"{RIGHTS}/requests", headers=headers).json()["items"]
    assert open_request["state"] == "in_progress"

    admin = manager_token("admin", BRAND)
    pending = client.get(f"{MANAGER_GDPR}/requests", headers=admin, params={"state": "in_progress"}).json()["items"]
    assert [item["id"] for item in pending] == [open_request["id"]]
    done = client.post(f"{MANAGER_GDPR}/requests/{open_request['id']}/process", headers=admin)
    assert done.status_code == 200 and done.json()["state"] == "done", done.text
    assert {stored(brand, one.id)["status"] for one in (first, second)} == {"erased"}
    lines = client.get(f"{MANAGER_GDPR}/register", headers=admin,
                       params={"subjectHash": brand.hasher(BRAND)("email", ZOE)}).json()["items"]
    assert [line["action"] for line in lines].count("erasure_done") == 1


def test_parallel_restrictions_restrict_once_from_the_first_request(client, brand):
    contact(brand)
    headers = session(client, brand)
    answers = in_parallel(6, lambda: ask(client, headers, kind="restriction"))
    assert [answer.status_code for answer in answers] == [201] * 6
    held = brand.store.for_brand(BRAND).get("restrictions", brand.hasher(BRAND)("email", ZOE))
    assert held["requestId"] in {answer.json()["id"] for answer in answers}
    actions = [line["action"] for line in brand.store.for_brand(BRAND).query_all("gdpr_register")]
    assert (actions.count("restriction_applied"), actions.count("restriction_unchanged")) == (1, 5)


def test_parallel_restrictions_of_a_member_restrict_once(client, brand):
    headers = member(brand)
    answers = in_parallel(6, lambda: client.post(f"/api/v1/app/{BRAND}/gdpr/requests", headers=headers,
                                                 json={"kind": "restriction"}))
    assert [answer.status_code for answer in answers] == [201] * 6
    restriction = brand.store.for_brand(BRAND).get("members", "m1")["restriction"]
    assert restriction["requestId"] in {answer.json()["id"] for answer in answers}
    actions = [line["action"] for line in brand.store.for_brand(BRAND).query_all("gdpr_register")]
    assert (actions.count("restriction_applied"), actions.count("restriction_unchanged")) == (1, 5)


def test_another_persons_session_does_not_reach_a_contacts_requests(client, brand):
    contact(brand)
    contact(brand, MAX)
    mine = ask(client, session(client, brand), kind="access").json()
    theirs = session(client, brand, MAX)
    assert client.get(f"{RIGHTS}/requests/{mine['id']}", headers=theirs).status_code == 404
    assert client.get(f"{RIGHTS}/requests", headers=theirs).json()["items"] == []


def test_one_link_opened_twice_at_once_opens_one_session(client, brand):
    contact(brand)
    token = proof_token(client, brand)
    statuses = sorted(answer.status_code for answer in in_parallel(5, lambda: open_session(client, token)))
    assert statuses == [201, 410, 410, 410, 410]


def test_an_unknown_brand_answers_404(client, brand):
    assert ask_proof(client, ZOE, brand_id="nobody").status_code == 404
    assert open_session(client, "some-token", brand_id="nobody").status_code == 404
