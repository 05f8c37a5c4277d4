"""Pop-ins and forms through the API: hidden until the address is confirmed, then the guide's opt-in values.

Guide v4 "Contacts retention" (pending email confirmation, deleted within the invitation period) and
v3 "Contacts collection" 5 and 6; docs/crm-capture-forms.md.
"""

from __future__ import annotations

import pytest

from shared.crm import blacklist
from tests.crm.capture_world import BRAND, BROWSER, CAPTURE, ORIGIN, POLICY

PROBLEM = "application/problem+json"

CONFIRMED_VALUES = [
    # (form, boxes ticked, member opt-in once confirmed, brand opt-in, the brand then sees the contact)
    ("blog_popin", {"memberOptIn": True, "brandOptIn": True}, "opt_in_blog_verified", "blog", True),
    ("blog_popin", {"memberOptIn": True}, "opt_in_blog_verified", "no_opt_in", False),
    ("blog_popin", {"memberOptIn": False}, "storage_only", "no_opt_in", False),
    ("internal_form", {"memberOptIn": True}, "opt_in_internal_form", "storage_only", True),
    ("internal_form", {"memberOptIn": True, "brandOptIn": True}, "opt_in_internal_form", "internal_form", True),
    ("external_form", {"memberOptIn": True, "brandOptIn": True}, "opt_in_external_form", "external_form", True),
    ("external_form", {"memberOptIn": False}, "new", "storage_only", True),
]


@pytest.mark.parametrize(("form", "boxes", "member_value", "brand_value", "brand_sees"), CONFIRMED_VALUES,
                         ids=[f"{row[0]} {sorted(k for k, v in row[1].items() if v)}" for row in CONFIRMED_VALUES])
def test_a_contact_is_hidden_until_its_address_is_confirmed_then_gets_the_guides_values(
        shop, form, boxes, member_value, brand_value, brand_sees):
    answer = shop.submit(form=form, **boxes)
    assert answer.status_code == 202 and answer.json() == {"received": True}
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    [pending] = shop.stored()
    assert pending["memberOptIn"] == "opt_in_blog_pending" and pending["emailStatus"] == "not_verified"
    assert pending["capture"]["consentTextVersion"] == "popin-2030-01" and pending["capture"]["form"] == form
    assert shop.member_sees() == [] and shop.brand_sees() == []

    [mail] = shop.mails()
    assert mail["toEmail"] == "zoe@example.com" and mail["subject"] == "Confirm your email address for Ana Lopes"
    assert POLICY in mail["text"] and "Ana Lopes" in mail["text"]
    # Like every email to a contact, it links their rights page; no unsubscribe: nothing follows unless confirmed.
    assert f"/contacts/{BRAND}/rights" in mail["text"] and f"/contacts/{BRAND}/rights" in mail["html"]
    assert "List-Unsubscribe" not in (mail.get("headers") or {})
    confirmed = shop.confirm(shop.tokens()[0])
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json() == {"confirmed": True, "form": form}

    [seen] = shop.member_sees()
    assert (seen["memberOptIn"]["value"], seen["brandOptIn"]["value"]) == (member_value, brand_value)
    assert seen["email"] == "zoe@example.com" and seen["emailStatus"] == "valid" and seen["createdBy"] == form
    assert [c["id"] for c in shop.brand_sees()] == ([seen["id"]] if brand_sees else [])
    [stored] = shop.stored()
    assert stored["capture"]["confirmedAt"] and stored["capture"]["privacyPolicyUrl"] == POLICY


def test_the_link_works_once_and_a_forged_one_is_unknown(shop):
    shop.submit()
    [token] = shop.tokens()
    assert shop.confirm(token).status_code == 200
    again = shop.confirm(token)
    assert again.status_code == 410 and again.headers["content-type"] == PROBLEM
    assert again.json()["type"].endswith("/link-expired")
    forged = shop.confirm("not-a-token")
    assert forged.status_code == 422 and forged.json()["errors"][0]["field"] == "token"
    assert shop.client.post(f"/api/v1/app/{BRAND}/capture/confirm", json={}).status_code == 422
    assert shop.stored()[0]["memberOptIn"] == "opt_in_blog_verified"


def test_a_known_or_blacklisted_address_gets_the_same_answer_and_no_email(shop):
    shop.submit("known@example.com")
    shop.confirm(shop.tokens()[0])
    store = shop.container.store.for_brand(BRAND)
    blacklist.add(store=store, email_hash=shop.container.hasher(BRAND)("email", "gone@example.com"),
                  reason=blacklist.BlacklistReason.GLOBAL_OPT_OUT, now=shop.container.clock.now(),
                  journal=shop.container.journal(BRAND))
    for email in ("known@example.com", "Gone@Example.com"):
        answer = shop.submit(email)
        assert (answer.status_code, answer.json()) == (202, {"received": True})
    assert len(shop.mails()) == 1  # the first confirmation only
    assert [doc["emailHash"] for doc in shop.stored()] == [shop.container.hasher(BRAND)("email", "known@example.com")]


@pytest.mark.parametrize("headers", [
    pytest.param({"Origin": ORIGIN, "User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"}, id="crawler"),
    pytest.param({"Origin": ORIGIN, "User-Agent": "python-requests/2.32"}, id="http library"),
    pytest.param({"Origin": ORIGIN, "User-Agent": ""}, id="no user agent"),
])
def test_bots_get_the_same_answer_and_nothing_happens(shop, headers):
    answer = shop.submit(headers=headers)
    assert (answer.status_code, answer.json()) == (202, {"received": True})
    assert shop.stored() == [] and shop.mails() == []


def test_a_filled_honeypot_gets_the_same_answer_and_nothing_happens(shop):
    answer = shop.submit(website="https://spam.example")
    assert (answer.status_code, answer.json()) == (202, {"received": True})
    assert shop.stored() == [] and shop.mails() == []


def test_a_page_on_a_foreign_origin_cannot_post_the_form(shop):
    preflight = shop.client.options(CAPTURE, headers={"Origin": "https://evil.example",
                                                      "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 403 and "access-control-allow-origin" not in preflight.headers
    refused = shop.submit(headers={"Origin": "https://evil.example", "User-Agent": BROWSER})
    assert refused.status_code == 403 and refused.json()["type"].endswith("/origin-not-allowed")
    allowed = shop.client.options(CAPTURE, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert allowed.status_code == 204 and allowed.headers["access-control-allow-origin"] == ORIGIN
    assert shop.stored() == [] and shop.mails() == []


def test_one_ip_flooding_the_form_is_told_to_wait(shop):
    answers = [shop.submit(f"p{n}@example.com") for n in range(22)]
    assert [a.status_code for a in answers[:20]] == [202] * 20
    refused = answers[20]
    assert refused.status_code == 429 and refused.headers["content-type"] == PROBLEM
    assert int(refused.headers["Retry-After"]) > 0
    assert len(shop.stored()) == 20


def test_one_address_submitted_again_and_again_is_told_to_wait_and_gets_one_email(shop):
    answers = [shop.submit().status_code for _ in range(7)]
    assert answers[:5] == [202] * 5 and answers[5:] == [429, 429]
    assert len(shop.mails()) == 1 and len(shop.stored()) == 1


def test_repeated_submissions_send_one_email_a_day_and_every_link_confirms_the_one_contact(shop):
    assert [shop.submit().status_code for _ in range(3)] == [202] * 3
    assert len(shop.mails()) == 1
    shop.advance(1)
    shop.submit(form="internal_form")
    first, second = shop.tokens()
    assert first != second
    assert shop.confirm(second).json() == {"confirmed": True, "form": "internal_form"}
    # The first day's link still works and changes nothing more: the address is confirmed.
    assert shop.confirm(first).status_code == 200
    [seen] = shop.member_sees()
    assert seen["memberOptIn"]["value"] == "opt_in_internal_form"
    assert len(shop.stored()) == 1


@pytest.mark.parametrize(("body", "field"), [
    pytest.param({"privacyPolicyUrl": "https://elsewhere.example/privacy"}, "privacyPolicyUrl", id="other policy"),
    pytest.param({"consentTextVersion": None}, "consentTextVersion", id="no consent text version"),
    pytest.param({"consentTextVersion": "v 1 <b>"}, "consentTextVersion", id="odd consent text version"),
    pytest.param({"form": "newsletter"}, "form", id="unknown form"),
    pytest.param({"email": "not-an-address"}, "email", id="bad address"),
    pytest.param({"memberOptin": True}, "memberOptin", id="misspelt box"),
])
def test_a_bad_submission_is_named_and_nothing_is_written(shop, body, field):
    answer = shop.submit(**body)
    assert answer.status_code == 422 and answer.headers["content-type"] == PROBLEM
    assert any(field in error["field"] for error in answer.json()["errors"]), answer.json()
    assert shop.stored() == [] and shop.mails() == []


def test_the_form_links_the_policy_the_widget_configuration_gives(shop):
    config = shop.client.get(f"/api/v1/widget/{BRAND}/config").json()
    assert config["privacyPolicyUrl"] == POLICY
    assert shop.submit(privacyPolicyUrl=config["privacyPolicyUrl"]).status_code == 202


@pytest.mark.parametrize("member_id", ["m-hidden", "nobody"])
def test_a_hidden_or_unknown_member_has_no_form(shop, member_id):
    body = {"form": "blog_popin", "email": "zoe@example.com", "consentTextVersion": "1", "privacyPolicyUrl": POLICY}
    answer = shop.client.post(f"/api/v1/widget/{BRAND}/members/{member_id}/capture",
                              headers={"User-Agent": BROWSER}, json=body)
    assert answer.status_code == 404
    assert shop.container.store.for_brand(BRAND).query_all("contacts") == []
