"""Store vouchers through the API: a member emails one to an opted-in contact, the store platform posts the purchase.

Guide v4, "Created after a store purchase": "To be able to generate the voucher, the contact must
already be in the Member's database (with opt-in)." The purchase is an order (channel in_store)
attributed to the voucher's member with reason `voucher`, in the contact's sales history, the
ledger and the counters, once, whatever the re-posts, the races and the crashes.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from popsell.registry import queue_handlers
from shared.crm import blacklist, vouchers
from shared.identity import repository
from shared.integrations.signing import signed_headers
from shared.messaging import worker
from shared.ports.bus import QUEUE_EMAILS
from shared.tracking import qr
from tests.identity.test_profile_api import app_headers
from tests.integrations.brand_platform import problem_type
from tests.races import CrashPoint, in_parallel
from tests.sales.shop import BRAND, OTHER

APP = f"/api/v1/app/{BRAND}"
STORE_PURCHASES = f"/api/v1/integrations/{BRAND}/store-purchases"
DASHBOARD = f"/api/v1/manager/brands/{BRAND}/tracking/dashboard"


def member(shop, member_id="m1", brand=BRAND):
    return app_headers(shop.container, repository.get_member(store=shop.store(brand), member_id=member_id)[0],
                       brand_id=brand)


def contact(shop, email="zoe@example.com", member_id="m1", opted_in=True) -> str:
    """A contact of the member made by an order (opted in when the order carries the brand opt-in)."""
    made = shop.call("POST", f"/api/v1/integrations/{BRAND}/orders/contacts", body={
        "memberId": member_id, "orderId": f"first-{email}", "customer": {"email": email, "firstName": "Zoe"},
        **({"brandOptIn": True} if opted_in else {})})
    assert made.status_code == 201, made.text
    return made.json()["contactId"]


def issue(shop, contact_id, member_id="m1"):
    return shop.client.post(f"{APP}/contacts/{contact_id}/vouchers", headers=member(shop, member_id))


def sent(shop) -> list[dict]:
    """The voucher emails in the outbox, once the emails queue is drained as the Functions trigger would."""
    handler = queue_handlers(shop.container)[QUEUE_EMAILS]
    while worker.process_once(shop.container.bus, QUEUE_EMAILS, handler):
        pass
    return [mail for mail in shop.container.mailer.list(brand_id=BRAND) if mail["template"] == "store_voucher"]


def code_in(mail: dict) -> str:
    """The code the contact reads in the email (the member never sees it)."""
    return next(line.split(": ", 1)[1] for line in mail["text"].splitlines() if line.startswith("Your voucher code"))


def voucher_for(shop, email="zoe@example.com") -> tuple[str, str]:
    """A contact of m1 and the code of the voucher emailed to it."""
    contact_id = contact(shop, email)
    assert issue(shop, contact_id).status_code == 201
    mail = next(mail for mail in sent(shop) if mail["toEmail"] == email)
    return contact_id, code_in(mail)


def purchase(shop, code, purchase_id="p-1", amount=10000, placed_at=None):
    return shop.call("POST", STORE_PURCHASES, body=purchase_body(shop, code, purchase_id, amount, placed_at))


def purchase_body(shop, code, purchase_id="p-1", amount=10000, placed_at=None) -> dict:
    return {"purchaseId": purchase_id, "voucherCode": code, "placedAt": placed_at or shop.now_text(),
            "currency": "EUR", "amountMinor": amount, "lines": [{"sku": "S1", "quantity": 1, "amountMinor": amount}]}


def presigned(shop, path, bodies) -> list[dict]:
    """Requests signed a second apart (signatures are single-use), to be sent all at once."""
    requests = []
    for body in bodies:
        shop.container.clock.advance(timedelta(seconds=1))
        raw = json.dumps(body).encode()
        key = shop.keys[BRAND]
        headers = signed_headers(kid=key.kid, secret=key.secret, method="POST", path=path, body=raw, now=shop.now())
        requests.append({"content": raw, "headers": headers | {"Content-Type": "application/json"}})
    return requests


def sales_of(shop, contact_id, member_id="m1") -> list[dict]:
    """The contact's sales history as its member reads it in the CRM."""
    response = shop.client.get(f"{APP}/contacts/{contact_id}", headers=member(shop, member_id))
    assert response.status_code == 200, response.text
    return response.json()["sales"]


# --- issuing -----------------------------------------------------------------------------------------


def test_a_member_emails_a_voucher_with_its_code_and_qr_code_to_an_opted_in_contact(shop):
    contact_id = contact(shop)
    answer = issue(shop, contact_id)
    assert answer.status_code == 201, answer.text
    voucher = answer.json()
    assert (voucher["contactId"], voucher["state"]) == (contact_id, "open")
    assert voucher["expiresAt"] == (shop.now() + timedelta(days=30)).isoformat().replace("+00:00", "Z")

    [mail] = sent(shop)
    assert mail["toEmail"] == "zoe@example.com" and mail["messageId"] == f"store-voucher:{voucher['id']}"
    code = code_in(mail)
    assert len(code) == 14 and code.replace("-", "")[-4:] == voucher["codeHint"]
    [image] = mail["inlineImages"]
    assert (image["content_id"], image["content_type"]) == ("voucher-qr", "image/png")
    assert base64.b64decode(image["base64_content"]) == qr.png(code, scale=6)  # the QR code of the code itself
    assert 'src="cid:voucher-qr"' in mail["html"] and code in mail["html"]
    assert "date and amount" in mail["text"]  # the contact is told what the member will see
    # A member's email to a contact: the contact's rights page and the one-click unsubscribe.
    assert f"/contacts/{BRAND}/rights" in mail["text"]
    assert f"/api/v1/app/{BRAND}/unsubscribe/" in mail["headers"]["List-Unsubscribe"]
    assert mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # The member lists their vouchers, never the code: only the contact holds it.
    for path in (f"{APP}/vouchers", f"{APP}/contacts/{contact_id}/vouchers"):
        listed = shop.client.get(path, headers=member(shop))
        assert listed.status_code == 200 and [item["id"] for item in listed.json()["items"]] == [voucher["id"]]
        assert code not in listed.text and code.replace("-", "") not in listed.text
    assert shop.client.get(f"{APP}/vouchers", headers=member(shop, "m2")).json()["items"] == []


def test_asking_again_while_it_is_open_answers_the_same_voucher_and_sends_no_second_email(shop):
    contact_id = contact(shop)
    first, again = issue(shop, contact_id), issue(shop, contact_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert len(sent(shop)) == 1


def test_parallel_requests_issue_one_voucher_and_send_one_email(shop):
    contact_id = contact(shop)
    headers = member(shop)
    answers = in_parallel(6, lambda: shop.client.post(f"{APP}/contacts/{contact_id}/vouchers", headers=headers))
    assert sorted(answer.status_code for answer in answers) == [200] * 5 + [201]
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert len(shop.store().query_all("vouchers")) == 1
    assert len(sent(shop)) == 1


def test_a_crash_between_issuing_and_emailing_is_repaired_by_asking_again(shop, monkeypatch):
    contact_id = contact(shop)
    bus = shop.container.bus

    def crash(*args, **kwargs):
        raise RuntimeError("the process died before the email was enqueued")

    with monkeypatch.context() as patched:
        patched.setattr(type(bus), "send", crash)
        with pytest.raises(RuntimeError):
            issue(shop, contact_id)
    assert len(shop.store().query_all("vouchers")) == 1 and sent(shop) == []
    again = issue(shop, contact_id)
    assert again.status_code == 200
    assert len(sent(shop)) == 1 and issue(shop, contact_id).status_code == 200
    assert len(sent(shop)) == 1


def test_a_new_voucher_once_the_last_one_expired_or_was_used(shop):
    contact_id, code = voucher_for(shop)
    assert purchase(shop, code).status_code == 201
    second = issue(shop, contact_id)
    assert second.status_code == 201
    shop.container.clock.advance(timedelta(days=30, seconds=1))
    third = issue(shop, contact_id)
    assert third.status_code == 201
    states = {item["id"]: item["state"] for item in shop.client.get(
        f"{APP}/contacts/{contact_id}/vouchers", headers=member(shop)).json()["items"]}
    assert sorted(states.values()) == ["expired", "open", "used"]
    codes = [code_in(mail) for mail in sent(shop)]
    assert len(set(codes)) == 3


def test_only_an_opted_in_contact_of_ones_own_gets_a_voucher(shop):
    opted_in = contact(shop)
    stored_only = contact(shop, "sam@example.com", opted_in=False)
    refused = issue(shop, stored_only)
    assert refused.status_code == 409 and problem_type(refused) == "contact-not-opted-in"
    assert issue(shop, opted_in, member_id="m2").status_code == 404  # another member's contact
    assert shop.client.post(f"/api/v1/app/{OTHER}/contacts/{opted_in}/vouchers",
                            headers=member(shop, "o1", OTHER)).status_code == 404

    blacklisted = contact(shop, "bo@example.com")
    blacklist.add(store=shop.store(), email_hash=shop.container.hasher(BRAND)("email", "bo@example.com"),
                  reason=blacklist.BlacklistReason.HARD_BOUNCE, now=shop.now(), journal=shop.container.journal(BRAND))
    bounced = issue(shop, blacklisted)
    assert bounced.status_code == 409 and problem_type(bounced) == "contact-not-opted-in"
    assert shop.store().query_all("vouchers") == [] and sent(shop) == []


def test_the_validity_is_a_brand_setting(shop):
    changed = shop.client.patch(f"/api/v1/manager/brands/{BRAND}", json={"voucherValidityDays": 7},
                                headers=shop.manager("admin"))
    assert changed.status_code == 200 and changed.json()["voucherValidityDays"] == 7
    too_long = shop.client.patch(f"/api/v1/manager/brands/{BRAND}", json={"voucherValidityDays": 91},
                                 headers=shop.manager("admin"))
    assert too_long.status_code == 422
    voucher = issue(shop, contact(shop)).json()
    assert voucher["expiresAt"] == (shop.now() + timedelta(days=7)).isoformat().replace("+00:00", "Z")


# --- the store purchase ------------------------------------------------------------------------------


def test_the_purchase_with_the_voucher_is_an_order_credited_to_the_member_and_in_the_contacts_history(shop):
    contact_id, code = voucher_for(shop)
    looked_up = shop.call("POST", f"/api/v1/integrations/{BRAND}/store-purchases/contacts",
                          body={"voucherCode": code})
    assert looked_up.status_code == 200 and looked_up.json()["contactId"] == contact_id  # was 404

    posted = purchase(shop, code.lower().replace("-", ""))  # as a till may type it
    assert posted.status_code == 201, posted.text
    order = posted.json()
    assert (order["channel"], order["contactId"]) == ("in_store", contact_id)
    assert (order["attribution"]["memberId"], order["attribution"]["reason"]) == ("m1", "voucher")
    assert order["commissionMinor"] == 1000

    assert [(line["reference"], line["amountMinor"], line["currency"], line["status"])
            for line in sales_of(shop, contact_id)] == [("p-1", 10000, "EUR", "placed")]
    mine = shop.client.get(f"{APP}/orders", headers=member(shop)).json()["items"]
    assert [(item["orderId"], item["contactId"]) for item in mine] == [("p-1", contact_id)]
    assert [entry["amountMinor"] for entry in shop.ledger()] == [1000]
    assert shop.client.get(DASHBOARD, headers=shop.manager("viewer")).json()["totals"]["orders"] == 1
    [listed] = shop.client.get(f"{APP}/vouchers", headers=member(shop)).json()["items"]
    assert (listed["state"], listed["purchaseId"]) == ("used", "p-1")


def test_a_re_post_is_idempotent_and_another_purchase_with_a_used_voucher_is_409(shop):
    contact_id, code = voucher_for(shop)
    placed = shop.now_text()
    first, again = purchase(shop, code, placed_at=placed), purchase(shop, code, placed_at=placed)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    other = purchase(shop, code, purchase_id="p-2")
    assert other.status_code == 409 and problem_type(other) == "voucher-used"
    lookup = shop.call("POST", f"/api/v1/integrations/{BRAND}/store-purchases/contacts",
                       body={"voucherCode": code, "purchaseId": "p-2"})
    assert lookup.status_code == 409 and problem_type(lookup) == "voucher-used"
    assert [order["orderId"] for order in shop.store().query_all("orders")] == ["p-1"]
    assert len(sales_of(shop, contact_id)) == 1 and len(shop.ledger()) == 1


def test_parallel_posts_of_one_purchase_record_it_once(shop):
    contact_id, code = voucher_for(shop)
    requests = presigned(shop, STORE_PURCHASES, [purchase_body(shop, code)] * 8)
    answers = in_parallel(8, lambda: shop.client.post(STORE_PURCHASES, **requests.pop()))
    assert sorted(answer.status_code for answer in answers) == [200] * 7 + [201], [a.text for a in answers]
    assert len(shop.store().query_all("orders")) == 1 and len(shop.ledger()) == 1
    assert shop.counters_of("m1")["orders"] == 1
    assert [line["reference"] for line in sales_of(shop, contact_id)] == ["p-1"]


def test_parallel_purchases_with_one_voucher_use_it_once(shop):
    contact_id, code = voucher_for(shop)
    bodies = [purchase_body(shop, code, purchase_id=f"p-{n}") for n in range(6)]
    requests = presigned(shop, STORE_PURCHASES, bodies)
    answers = in_parallel(6, lambda: shop.client.post(STORE_PURCHASES, **requests.pop()))
    assert sorted(answer.status_code for answer in answers) == [201] + [409] * 5, [a.text for a in answers]
    assert {problem_type(answer) for answer in answers if answer.status_code == 409} == {"voucher-used"}
    [order] = shop.store().query_all("orders")
    assert [line["reference"] for line in sales_of(shop, contact_id)] == [order["orderId"]]
    assert shop.store().query_all("vouchers")[0]["usedBy"] == order["orderId"]


def test_unknown_expired_and_early_codes_are_refused_and_nothing_is_written(shop):
    contact_id, code = voucher_for(shop)
    issued_at = shop.now()
    unknown = purchase(shop, "ZZZZ-ZZZZ-ZZZZ")
    assert unknown.status_code == 404 and problem_type(unknown) == "voucher-not-found"
    early = purchase(shop, code, placed_at=shop.now_text(issued_at - timedelta(hours=1)))
    assert early.status_code == 422 and early.json()["errors"][0]["field"] == "placedAt"
    shop.container.clock.advance(timedelta(days=31))
    expired = purchase(shop, code)
    assert expired.status_code == 410 and problem_type(expired) == "voucher-expired"
    assert shop.store().query_all("orders") == [] and sales_of(shop, contact_id) == []
    # A purchase placed while it was valid, posted late (a till's nightly upload), still counts.
    late = purchase(shop, code, placed_at=shop.now_text(issued_at + timedelta(days=29)))
    assert late.status_code == 201 and late.json()["attribution"]["reason"] == "voucher"


def test_a_contact_no_longer_opted_in_cannot_use_the_voucher(shop):
    contact_id, code = voucher_for(shop)
    store = shop.store()  # the contact opted out from an email since the voucher was issued
    doc = store.get("contacts", contact_id)
    store.replace("contacts", {**{k: v for k, v in doc.items() if not k.startswith("_")},
                               "memberOptIn": "opt_out_email"}, etag=doc["_etag"])
    refused = purchase(shop, code)
    assert refused.status_code == 409 and problem_type(refused) == "contact-not-opted-in"
    assert shop.store().query_all("orders") == []


def test_a_voucher_is_only_for_a_store_purchase(shop):
    _, code = voucher_for(shop)
    online = shop.order(voucherCode=code)
    assert online.status_code == 422 and online.json()["errors"][0]["field"] == "voucherCode"
    in_store = shop.order(orderId="o-2", channel="in_store", voucherCode=code)  # the orders route uses it the same way
    assert in_store.status_code == 201 and in_store.json()["attribution"]["reason"] == "voucher"


WRITTEN = ("orders", "commissions", "tracking_counters", "contacts", "identity_keys", "vouchers")


def test_a_crash_at_any_write_of_a_store_purchase_is_repaired_by_one_re_post(shop, monkeypatch):
    pairs = [voucher_for(shop, f"c{n}@example.com") for n in range(40)]
    crash = CrashPoint(monkeypatch, WRITTEN)
    placed, at = shop.now_text(), 0
    while True:
        at += 1
        contact_id, code = pairs[at - 1]
        answer = crash.during(at, lambda code=code, at=at: purchase(shop, code, purchase_id=f"p-{at}",
                                                                    placed_at=placed))
        if not crash.fired:
            assert answer.status_code == 201, answer.text
            break
        assert answer is None or answer.status_code == 500
        shop.container.clock.advance(timedelta(minutes=2))  # past a ledger mark the crash may have left
        repaired = purchase(shop, code, purchase_id=f"p-{at}", placed_at=placed)
        assert repaired.status_code in (200, 201), repaired.text
        order = shop.store().get("orders", f"p-{at}")
        assert order["effects"] == "applied" and order["attribution"]["reason"] == "voucher"
        assert [(line["reference"], line["amountMinor"]) for line in sales_of(shop, contact_id)] == [
            (f"p-{at}", 10000)]
        assert shop.store().get("vouchers", vouchers.voucher_id(shop.container.hasher(BRAND), code))["usedBy"] \
            == f"p-{at}"
    assert at >= 15  # the voucher, the order, its counters, the ledger, the sales line: each a crash point
    orders = shop.store().query_all("orders")
    assert len(orders) == at and len({entry["orderId"] for entry in shop.ledger()}) == at
    assert shop.counters_of("m1")["orders"] == at
