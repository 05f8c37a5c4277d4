"""A member's push subscriptions through the App API: own devices only, idempotent by endpoint, checked input."""

from __future__ import annotations

from datetime import timedelta

from shared.notifications import subscriptions
from tests.notifications.helpers import BRAND, OTHER, SUBS, device_keys, subscription

FCM = "https://fcm.googleapis.com/fcm/send/device-1"
MOZ = "https://updates.push.services.mozilla.com/wpush/v2/device-2"


def test_a_member_registers_lists_and_deletes_their_devices(world):
    client, container = world.client, world.container
    first = client.post(SUBS, headers=world.m1, json=subscription(FCM, "  My   phone "))
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["label"] == "My phone" and body["endpointOrigin"] == "https://fcm.googleapis.com"
    assert body["id"] == subscriptions.subscription_id(FCM)
    assert "endpoint" not in body and "keys" not in body
    container.clock.advance(timedelta(minutes=1))
    assert client.post(SUBS, headers=world.m1, json=subscription(MOZ, "Laptop")).status_code == 201

    listed = client.get(SUBS, headers=world.m1).json()
    assert [item["label"] for item in listed] == ["Laptop", "My phone"]  # newest first

    assert client.delete(f"{SUBS}/{body['id']}", headers=world.m1).status_code == 204
    assert [item["label"] for item in client.get(SUBS, headers=world.m1).json()] == ["Laptop"]
    assert client.delete(f"{SUBS}/{body['id']}", headers=world.m1).status_code == 404


def test_registering_the_same_endpoint_again_updates_the_one_device(world):
    client, container = world.client, world.container
    created = client.post(SUBS, headers=world.m1, json=subscription(FCM, "Phone")).json()
    container.clock.advance(timedelta(minutes=5))
    again = client.post(SUBS, headers=world.m1, json={**subscription(FCM, "Renamed")})
    assert again.status_code == 201
    assert again.json()["id"] == created["id"] and again.json()["createdAt"] == created["createdAt"]
    assert again.json()["updatedAt"] != created["updatedAt"]
    assert [item["label"] for item in client.get(SUBS, headers=world.m1).json()] == ["Renamed"]


def test_another_members_device_is_not_found(world):
    client = world.client
    mine = client.post(SUBS, headers=world.m1, json=subscription(FCM)).json()
    assert client.get(SUBS, headers=world.m2).json() == []
    response = client.delete(f"{SUBS}/{mine['id']}", headers=world.m2)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert len(client.get(SUBS, headers=world.m1).json()) == 1


def test_the_routes_need_a_member_of_the_brand_in_the_path(world):
    client = world.client
    assert client.get(SUBS).status_code == 401
    assert client.post(SUBS, json=subscription(FCM)).status_code == 401
    assert client.delete(f"{SUBS}/ps-x").status_code == 401
    # A token of this brand does not open another brand's routes.
    assert client.get(f"/api/v1/app/{OTHER}/me/push-subscriptions", headers=world.m1).status_code in (401, 403, 404)


def test_bad_subscriptions_are_refused_as_problems(world):
    client = world.client
    keys = device_keys()
    bad = [
        {"endpoint": "http://push.example.com/x", "keys": keys},  # not https
        {"endpoint": "https://user:pw@push.example.com/x", "keys": keys},
        {"endpoint": "https:///nohost-at-all", "keys": keys},
        {"endpoint": FCM, "keys": {**keys, "p256dh": "A" * 87}},  # not a P-256 point
        {"endpoint": FCM, "keys": {**keys, "auth": "c2hvcnQ"}},  # not 16 bytes
        {"endpoint": FCM, "keys": {"p256dh": keys["p256dh"]}},  # no auth
        {"endpoint": FCM, "keys": keys, "label": "x" * 81},
        {"endpoint": FCM, "keys": keys, "extra": 1},
        {"keys": keys},
    ]
    for payload in bad:
        response = client.post(SUBS, headers=world.m1, json=payload)
        assert response.status_code == 422, payload
        assert response.headers["content-type"].startswith("application/problem+json")
    assert client.get(SUBS, headers=world.m1).json() == []


def test_a_member_keeps_at_most_twenty_devices(world):
    client, container = world.client, world.container
    for n in range(subscriptions.MAX_PER_MEMBER + 1):
        container.clock.advance(timedelta(seconds=1))
        assert client.post(SUBS, headers=world.m1, json=subscription(f"{FCM}-{n}", f"d{n}")).status_code == 201
    labels = [item["label"] for item in client.get(SUBS, headers=world.m1).json()]
    assert len(labels) == subscriptions.MAX_PER_MEMBER and "d0" not in labels


def test_the_opt_ins_are_part_of_the_profile_on_by_default_and_editable(world):
    client = world.client
    me = f"/api/v1/app/{BRAND}/me"
    assert client.get(me, headers=world.m1).json()["notifications"] == {"waitingList": True, "directMessages": True}
    changed = client.patch(me, headers=world.m1, json={"notifications": {"waitingList": False}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["notifications"] == {"waitingList": False, "directMessages": True}
    assert client.patch(me, headers=world.m1, json={"notifications": {"sms": True}}).status_code == 422


def test_a_shared_browser_moves_to_the_member_who_registered_it_last(world):
    client = world.client
    first = client.post(SUBS, headers=world.m1, json=subscription(FCM)).json()
    second = client.post(SUBS, headers=world.m2, json=subscription(FCM)).json()
    assert first["id"] == second["id"]
    assert client.get(SUBS, headers=world.m1).json() == []
    assert [item["id"] for item in client.get(SUBS, headers=world.m2).json()] == [first["id"]]
