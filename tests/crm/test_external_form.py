"""The external form: the guide's opt-ins, silent on known addresses, rate-limited, 404 for hidden members."""

from __future__ import annotations

import pytest

from shared.brands import service as brands
from shared.brands.models import BrandCreate
from shared.crm import blacklist
from shared.identity import repository
from shared.identity.models import CommunityVisibility, Member, Role

BRAND = "acme"
FORM = f"/api/v1/widget/{BRAND}/members/m1/contact-form"


@pytest.fixture
def store(client, container):
    brands.create(store=container.store, clock=container.clock, data=BrandCreate(id=BRAND, name="Acme"))
    store = container.store.for_brand(BRAND)
    for member_id, hidden in (("m1", False), ("m-hidden", True)):
        repository.save(store, repository.MEMBERS, Member(
            id=member_id, role=Role.VENDOR, status="active", created_at=container.clock.now(),
            visibility=CommunityVisibility(hide_from_community=hidden)), etag=None)
    return store


def contacts_of(store):
    return [doc for doc in store.query_all("contacts") if doc["memberId"] == "m1"]


@pytest.mark.parametrize(
    ("ticks", "member_opt_in", "brand_opt_in"),
    [
        ({}, "new", "storage_only"),
        ({"memberOptIn": True}, "opt_in_external_form", "storage_only"),
        ({"brandOptIn": True}, "new", "external_form"),
        ({"memberOptIn": True, "brandOptIn": True}, "opt_in_external_form", "external_form"),
    ],
)
def test_the_form_gives_the_guides_opt_ins(client, store, ticks, member_opt_in, brand_opt_in):
    response = client.post(FORM, json={"firstName": "Zoe", "email": "zoe@example.com", **ticks})
    assert response.status_code == 202
    [contact] = contacts_of(store)
    assert (contact["memberOptIn"], contact["brandOptIn"]) == (member_opt_in, brand_opt_in)
    assert contact["history"]["createdBy"] == "external_form"


def test_known_and_blacklisted_addresses_get_the_same_answer_and_nothing_more(client, container, store):
    blacklist.add(store, container.hasher(BRAND)("email", "gone@example.com"),
                  blacklist.BlacklistReason.GLOBAL_OPT_OUT, container.clock.now(), journal=container.journal(BRAND))
    assert client.post(FORM, json={"email": "gone@example.com"}).status_code == 202
    assert client.post(FORM, json={"email": "zoe@example.com"}).status_code == 202
    assert client.post(FORM, json={"email": "zoe@example.com"}).status_code == 202
    assert [doc["emailHash"] for doc in contacts_of(store)] == [container.hasher(BRAND)("email", "zoe@example.com")]


def test_hidden_or_unknown_members_have_no_form(client, store):
    for member_id in ("m-hidden", "nobody"):
        response = client.post(f"/api/v1/widget/{BRAND}/members/{member_id}/contact-form", json={"email": "a@b.fr"})
        assert response.status_code == 404


def test_a_bad_address_is_named(client, store):
    response = client.post(FORM, json={"email": "not-an-address"})
    assert response.status_code == 422 and "email" in response.json()["detail"]
    assert contacts_of(store) == []


def test_one_address_cannot_flood_a_members_crm(client, store):
    statuses = [client.post(FORM, json={"email": f"p{n}@example.com"}).status_code for n in range(25)]
    assert statuses[:20] == [202] * 20
    assert 429 in statuses[20:]
    assert len(contacts_of(store)) == 20
