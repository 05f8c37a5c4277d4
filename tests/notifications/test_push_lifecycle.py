"""The `notifications` trigger under the Functions host, the dev push outbox, and push subscriptions as member data."""

from __future__ import annotations

import pytest
from azure.servicebus import ServiceBusMessage

from shared.adapters.servicebus_bus import to_servicebus_message
from shared.gdpr import erasure, subject_export
from shared.notifications import subscriptions
from shared.notifications.service import Notification, _outgoing
from shared.notifications.subscriptions import SubscriptionCreate
from tests.http.functions_host import indexed_functions
from tests.identity.test_profile_api import add_member
from tests.notifications.helpers import BRAND, SUBS, subscription
from tests.test_servicebus_mapping import received_by_trigger

WAITING = Notification(kind="waiting-list", key="waiting-list:r9", title="New waiting-list request",
                       body="A visitor is waiting for you", url="/conversations/requests/r9", tag="waiting-list")
A, B = "https://push.example.com/wpush/a", "https://push.example.com/gone/b"


def _register(container, member_id, endpoint):
    return subscriptions.register(store=container.store.for_brand(BRAND), member_id=member_id,
                                  data=SubscriptionCreate.model_validate(subscription(endpoint)),
                                  now=container.clock.now()).id


def _trigger():
    [function] = [f for f in indexed_functions() if f.get_function_name() == "notifications_queue"]
    trigger = function.get_trigger()
    assert trigger.type == "serviceBusTrigger" and trigger.queue_name == "notifications"
    assert trigger.connection == "ServiceBusConnection" and trigger.name == "msg"
    return function.get_user_function()


def test_the_functions_trigger_sends_and_a_redelivery_sends_nothing_again(container):
    add_member(container, member_id="m1")
    _register(container, "m1", A)
    gone = _register(container, "m1", B)  # the outbox answers 410 for "/gone/" endpoints
    sent: ServiceBusMessage = to_servicebus_message(_outgoing(BRAND, "m1", WAITING))
    run = _trigger()

    run(received_by_trigger(sent, delivery_count=1))
    run(received_by_trigger(sent, delivery_count=2))  # redelivered (e.g. the lock was lost)

    pushes = container.notifier.list(brand_id=BRAND)
    assert [p["subscriptionId"] for p in pushes] == [subscriptions.subscription_id(A)]
    assert gone not in [t.subscription_id for t in subscriptions.targets(store=container.store.for_brand(BRAND),
                                                                          member_id="m1")]


def test_a_malformed_message_raises_under_the_trigger(container):
    run = _trigger()
    with pytest.raises(Exception):  # noqa: B017 - the trigger re-raises whatever the handler raised
        run(received_by_trigger(ServiceBusMessage(b'{"brandId": "acme"}', message_id="m"), delivery_count=1))


def test_the_dev_endpoint_lists_the_push_outbox(client, container, world):
    client.post(SUBS, headers=world.m1, json=subscription(A))
    from shared.notifications.service import notify_member
    from tests.notifications.helpers import drain_notifications

    notify_member(bus=container.bus, brand_id=BRAND, member_id="m1", notification=WAITING)
    drain_notifications(container)
    listed = client.get("/api/v1/dev/push-outbox", params={"brandId": BRAND})
    assert listed.status_code == 200
    assert [item["payload"]["title"] for item in listed.json()] == ["New waiting-list request"]
    assert client.get("/api/v1/dev/push-outbox", params={"brandId": "nobody"}).json() == []


def test_subscriptions_are_in_the_members_export_and_erased_with_the_member(container):
    add_member(container, member_id="m1")
    add_member(container, member_id="m2")
    store = container.store.for_brand(BRAND)
    _register(container, "m1", A)
    kept = _register(container, "m2", "https://push.example.com/wpush/other")
    exported = subject_export.member_export(store=store, blobs=container.blobs, member_id="m1",
                                            subject_hash="h" * 64, now=container.clock.now())
    [device] = exported["pushSubscriptions"]
    assert device["endpoint"] == A and set(device["keys"]) == {"p256dh", "auth"} and device["memberId"] == "m1"
    assert exported["consents"]["pushNotifications"] == {"waitingList": True, "directMessages": True}

    erasure.erase_member(store=store, blobs=container.blobs, hasher=container.hasher(BRAND), events=container.events,
                         member_id="m1", now=container.clock.now(), rule="member_unsubscribed")
    assert subscriptions.targets(store=store, member_id="m1") == []
    assert [t.subscription_id for t in subscriptions.targets(store=store, member_id="m2")] == [kept]
