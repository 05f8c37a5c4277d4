"""Contacts from orders and store purchases through signed calls: the guide's order rule, once per order, vouchers."""

from __future__ import annotations

import pytest

from shared.crm import blacklist, service, vouchers
from shared.identity import repository
from tests.crm import test_brand_sync_api as sync_tests
from tests.identity.test_profile_api import app_headers
from tests.integrations.brand_platform import problem_type

CLASSIC, DIRECT = sync_tests.CLASSIC, sync_tests.DIRECT
platform = sync_tests.platform  # the same signed-platform fixture

CUSTOMER = {"email": "Zoe@Example.com", "firstName": "Zoe", "lastName": "Martin", "customerId": "C-1"}


def _order(platform, brand=DIRECT, member="m1", order_id="o-1", **extra):
    body = {"memberId": member, "orderId": order_id, "customer": CUSTOMER, **extra}
    return platform.call("POST", f"/api/v1/integrations/{brand}/orders/contacts", brand, body)


def _purchase(platform, brand=DIRECT, **body):
    return platform.call("POST", f"/api/v1/integrations/{brand}/store-purchases/contacts", brand, body)


@pytest.mark.parametrize(("brand", "member", "param", "member_opt_in", "brand_opt_in"), [
    (DIRECT, "m1", True, "opt_in_order", "brand_database"),
    (DIRECT, "m1", False, "storage_only", "storage_only"),
    (DIRECT, "m1", None, "storage_only", "storage_only"),
    (CLASSIC, "amb", True, "opt_in_order", "brand_database"),
    (CLASSIC, "amb", None, "storage_only", "storage_only"),
])
def test_an_order_creates_the_contact_with_the_order_rule(platform, brand, member, param, member_opt_in,
                                                          brand_opt_in):
    response = _order(platform, brand, member, **({} if param is None else {"brandOptIn": param}))
    assert response.status_code == 201, response.text
    stored = platform.stored(response.json()["contactId"], brand)
    assert (stored["memberOptIn"], stored["brandOptIn"]) == (member_opt_in, brand_opt_in)
    assert stored["history"]["createdBy"] == "order" and stored["email"] == "zoe@example.com"


def test_without_the_parameter_the_brand_setting_decides(platform, manager_token):
    updated = platform.client.patch(f"/api/v1/manager/brands/{DIRECT}", json={"brandOptIn": True},
                                    headers=manager_token("admin", DIRECT))
    assert updated.status_code == 200, updated.text
    stored = platform.stored(_order(platform).json()["contactId"])
    assert (stored["memberOptIn"], stored["brandOptIn"]) == ("opt_in_order", "brand_database")


def test_the_same_order_twice_is_one_contact(platform):
    first, again = _order(platform, brandOptIn=True), _order(platform, brandOptIn=True)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["contactId"] == again.json()["contactId"]
    second_order = _order(platform, order_id="o-2")  # the same customer again: still one contact, consent kept
    assert second_order.status_code == 200 and second_order.json()["contactId"] == first.json()["contactId"]
    assert second_order.json()["memberOptIn"] == "opt_in_order"
    assert len(platform.contacts_of("m1")) == 1


def test_an_order_with_a_blacklisted_address_creates_nothing(platform):
    store = platform.container.store.for_brand(DIRECT)
    blacklist.add(store=store, email_hash=platform.container.hasher(DIRECT)("email", "zoe@example.com"),
                  reason=blacklist.BlacklistReason.GLOBAL_OPT_OUT, now=platform.container.clock.now(),
                  journal=platform.container.journal(DIRECT))
    response = _order(platform, brandOptIn=True)
    assert response.status_code == 409 and problem_type(response) == "contact-blacklisted"
    assert platform.contacts_of("m1") == []


def test_an_order_needs_a_known_active_member_and_valid_customer(platform):
    assert _order(platform, member="nobody").status_code == 404
    bad = platform.call("POST", f"/api/v1/integrations/{DIRECT}/orders/contacts", DIRECT,
                        {"memberId": "m1", "orderId": "o-1", "customer": {"email": "nope"}})
    assert bad.status_code == 422 and any("email" in e["field"] for e in bad.json()["errors"])
    assert platform.contacts_of("m1") == []


def test_a_store_purchase_needs_a_contact_already_opted_in(platform):
    opted_in = _order(platform, brandOptIn=True).json()["contactId"]
    stored_only = _order(platform, member="m2", order_id="o-2").json()["contactId"]

    ok = _purchase(platform, contactId=opted_in)
    assert ok.status_code == 200 and ok.json()["contactId"] == opted_in
    refused = _purchase(platform, contactId=stored_only)
    assert refused.status_code == 409 and problem_type(refused) == "contact-not-opted-in"
    assert _purchase(platform, contactId="ct-unknown").status_code == 404
    assert _purchase(platform, contactId=opted_in, voucherCode="V1").status_code == 422


def test_a_voucher_code_names_its_contact(platform):
    opted_in = _order(platform, brandOptIn=True).json()["contactId"]
    member = app_headers(platform.container, repository.get_member(store=platform.container.store.for_brand(DIRECT),
                                                                   member_id="m1")[0], brand_id=DIRECT)
    issued = platform.client.post(f"/api/v1/app/{DIRECT}/contacts/{opted_in}/vouchers", headers=member)
    assert issued.status_code == 201, issued.text
    stored = platform.container.store.for_brand(DIRECT).get("contacts", opted_in)
    code = vouchers.code_of(platform.container.hasher(DIRECT), service.from_document(stored)[0], 1)
    assert vouchers.voucher_id(platform.container.hasher(DIRECT), code) == issued.json()["id"]
    response = _purchase(platform, voucherCode=code)
    assert response.status_code == 200 and response.json()["contactId"] == opted_in
    unknown = _purchase(platform, voucherCode="VOUCH-2")
    assert unknown.status_code == 404 and problem_type(unknown) == "voucher-not-found"


def test_order_calls_signed_by_another_brand_are_refused(platform):
    path = f"/api/v1/integrations/{DIRECT}/orders/contacts"
    body = {"memberId": "m1", "orderId": "o-1", "customer": CUSTOMER}
    assert problem_type(platform.client.post(path, json=body)) == "integration-signature-missing"
    other = platform.call("POST", path, body=body, key=platform.keys[CLASSIC])
    assert other.status_code == 401 and problem_type(other) == "integration-unknown-key"
    assert platform.contacts_of("m1") == []
