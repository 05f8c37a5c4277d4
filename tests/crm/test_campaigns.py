"""Campaigns through the App API: who receives a publication, idempotency, unsubscribe links, quotas, events."""

from __future__ import annotations

import json
import re

import pytest

from shared.brands import service as brands
from shared.crm import blacklist, campaigns, contact_journal, provider_events, service
from shared.crm.consent import MemberOptIn
from shared.crm.models import ContactSource, EmailStatus
from shared.crm.sources import SourceInput
from shared.crm.views import ContactCreate
from shared.identity import repository
from tests.builders import sent_emails

BRAND = "acme"
APP = f"/api/v1/app/{BRAND}"
OPTED_IN = {"source": ContactSource.EXTERNAL_FORM, "member_opt_in_asked": True, "brand_opt_in_asked": True}
LINK = "https://shop.acme.example/spring"


def new_contact(container, email, member_id="m1", tags=("vip",), source=ContactSource.EXTERNAL_FORM, **params):
    store = container.store.for_brand(BRAND)
    member, _ = repository.get_member(store=store, member_id=member_id)
    params = params or {"member_opt_in_asked": True, "brand_opt_in_asked": True}
    return service.create(store=store, brand=brands.get(store=container.store, brand_id=BRAND), member=member,
                          data=ContactCreate(first_name=email.split("@")[0].title(), email=email, tags=list(tags)),
                          source=source, hasher=container.hasher(BRAND), now=container.clock.now(),
                          params=SourceInput(**params))


def outbox(container):
    return sent_emails(container, BRAND, campaigns.TEMPLATE, limit=1000)


def post(client, headers, **body):
    return client.post(f"{APP}/campaigns", headers=headers,
                       json={"title": "Spring", "text": "New pieces", "link": LINK, "tags": ["vip"], **body})


def unsubscribe_path(mail) -> str:
    return re.search(r"/api/v1/app/acme/unsubscribe/[A-Za-z0-9_.\-]+", mail["headers"]["List-Unsubscribe"])[0]


def test_only_opted_in_contacts_receive_the_publication(cp_client, container, members):
    zoe = new_contact(container, "zoe@example.com")
    new_contact(container, "max@example.com", source=ContactSource.MANUAL)  # never invited
    blocked = new_contact(container, "bob@example.com")
    listed = new_contact(container, "eve@example.com")
    new_contact(container, "other-tag@example.com", tags=("prospect",))
    new_contact(container, "ann@example.com", member_id="m2")  # another member's contact, same tag
    store = container.store.for_brand(BRAND)
    doc = store.get("contacts", blocked.id)
    store.replace("contacts", {**doc, "emailStatus": EmailStatus.HARD_BOUNCE.value}, etag=doc["_etag"])
    blacklist.add(store=store, email_hash=listed.email_hash, reason=blacklist.BlacklistReason.SPAM,
                  now=container.clock.now(),
                  journal=container.journal(BRAND))

    answer = post(cp_client, members["m1"], id="c1")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"id": "c1", "selected": 4, "sent": 1,
                             "skipped": {"not_opted_in": 1, "email_blocked": 1, "blacklisted": 1}}
    [mail] = outbox(container)
    assert mail["toEmail"] == "zoe@example.com" and mail["messageId"] == f"campaign:c1:{zoe.id}"
    assert "Hello Zoe" in mail["text"] and LINK in mail["text"] and "Ana Lopes" in mail["text"]
    assert mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe_path(mail) in mail["text"]
    assert json.loads(mail["eventPayload"]) == {"brandId": BRAND, "contactId": zoe.id, "campaignId": "c1"}
    assert store.get("emails", mail["messageId"])["contactId"] == zoe.id


def test_hand_picked_ids_and_a_re_post_sends_nothing_twice(cp_client, container, members):
    zoe = new_contact(container, "zoe@example.com", tags=())
    ann = new_contact(container, "ann@example.com", member_id="m2", tags=())
    body = {"id": "c2", "tags": [], "contactIds": [zoe.id, ann.id]}
    first = post(cp_client, members["m1"], **body).json()
    assert first["sent"] == 1 and first["skipped"] == {"not_found": 1}
    assert post(cp_client, members["m1"], **body).json() == first
    assert len(outbox(container)) == 1
    assert post(cp_client, members["m2"], **body).status_code == 409  # another member's campaign id


@pytest.mark.parametrize(("body", "field"), [
    ({"link": "https://evil.example/x"}, "link"),
    ({"link": "http://shop.acme.example/x"}, "link"),
    ({"tags": []}, "body"),
    ({"title": ""}, "title"),
])
def test_bad_campaigns_are_refused_naming_the_field(cp_client, container, members, body, field):
    new_contact(container, "zoe@example.com")
    answer = post(cp_client, members["m1"], **body)
    assert answer.status_code == 422 and field in answer.text
    assert outbox(container) == []


def test_one_click_unsubscribe_stops_this_member_only(cp_client, container, members):
    zoe = new_contact(container, "zoe@example.com")
    post(cp_client, members["m1"], id="c3")
    [mail] = outbox(container)
    path = unsubscribe_path(mail)
    choices = cp_client.get(path).json()["choices"]
    assert [c["scope"] for c in choices] == ["member", "brand"]
    answer = cp_client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200 and answer.json() == {"scope": "member"}
    stored = service.from_document(container.store.for_brand(BRAND).get("contacts", zoe.id))[0]
    assert stored.member_opt_in == MemberOptIn.OPT_OUT_EMAIL
    assert cp_client.post(path).status_code == 200  # used again: nothing more changes
    assert post(cp_client, members["m1"], id="c4").json()["skipped"] == {"not_opted_in": 1}
    # The brand-wide choice is still open to them, and m2 may still add the address.
    new_contact(container, "zoe@example.com", member_id="m2")


def test_brand_wide_unsubscribe_blacklists_the_address(cp_client, container, members):
    new_contact(container, "zoe@example.com")
    theirs = new_contact(container, "zoe@example.com", member_id="m2")
    post(cp_client, members["m1"], id="c5")
    path = unsubscribe_path(outbox(container)[0])
    assert cp_client.post(f"{path}?scope=brand").json() == {"scope": "brand"}
    assert cp_client.post(f"{path}?scope=brand").status_code == 200  # idempotent
    assert post(cp_client, members["m2"], id="c6").json()["skipped"] == {"blacklisted": 1}
    store = container.store.for_brand(BRAND)
    contact_journal.delete_own(store=store, journal=container.journal(BRAND),
                       member=repository.get_member(store=store, member_id="m2")[0], contact_id=theirs.id,
                       now=container.clock.now())
    with pytest.raises(service.ContactBlacklisted):
        new_contact(container, "zoe@example.com", member_id="m2")


def test_forged_or_foreign_tokens_answer_404(cp_client, container, members):
    new_contact(container, "zoe@example.com")
    post(cp_client, members["m1"], id="c7")
    path = unsubscribe_path(outbox(container)[0])
    assert cp_client.post(path[:-3] + "AAA").status_code == 404
    assert cp_client.get(path.replace("/app/acme/", "/app/other/")).status_code == 404


def test_the_daily_quota_answers_429_with_retry_after(cp_client, container, members, monkeypatch):
    monkeypatch.setattr(campaigns, "MEMBER_DAILY_RECIPIENTS", 2)
    for name in ("a", "b", "c"):
        new_contact(container, f"{name}@example.com")
    answer = post(cp_client, members["m1"], id="c8")
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) == 15 * 3600
    assert outbox(container) == [] and container.store.for_brand(BRAND).find("campaigns", "c8") is None


def test_a_click_on_a_campaign_email_counts_as_activity(cp_client, container, members):
    zoe = new_contact(container, "zoe@example.com")
    post(cp_client, members["m1"], id="c9")
    [mail] = outbox(container)
    for kind, at in (("open", 1_893_488_400), ("click", 1_893_488_500)):
        # No contact in the payload: found through the email record's contactId (CustomID = message id).
        event = provider_events.ProviderEvent(event=kind, at=at, provider_message_id="7", custom_id=mail["messageId"],
                                              brand_id=BRAND)
        assert provider_events.process(event, f"evt-{kind}", store=container.store, journal_for=container.journal,
                                       events=container.events, clock=container.clock) == "applied"
    stored = service.from_document(container.store.for_brand(BRAND).get("contacts", zoe.id))[0]
    assert stored.interactions.views == 1 and stored.interactions.clicks == 1
    assert stored.last_activity_at is not None and int(stored.last_activity_at.timestamp()) == 1_893_488_500


def test_an_address_stored_before_the_email_type_is_skipped_not_fatal(cp_client, container, members):
    zoe = new_contact(container, "zoe@example.com")
    legacy = new_contact(container, "bob@example.com")
    store = container.store.for_brand(BRAND)
    doc = store.get("contacts", legacy.id)
    # What the old pattern let in and the email type refuses (a special-use domain).
    store.replace("contacts", {**doc, "email": "bob@shop.local"}, etag=doc["_etag"])
    answer = post(cp_client, members["m1"], id="c1")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"id": "c1", "selected": 2, "sent": 1, "skipped": {"no_email": 1}}
    assert [mail["messageId"] for mail in outbox(container)] == [f"campaign:c1:{zoe.id}"]
