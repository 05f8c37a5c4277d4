"""The `notifications` queue: every device, dead ones removed, opt-outs kept, each push sent once.

The Web Push adapter is the real one: only the HTTP POST underneath pywebpush is replaced, answering
201, 404, 410 or 503 as a push service would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from shared.adapters.webpush_notifier import WebPushNotifier
from shared.config import Settings
from shared.errors import TransientError
from shared.notifications import service, subscriptions
from shared.notifications.service import Notification, notify_member, notify_members
from shared.notifications.subscriptions import SubscriptionCreate
from shared.ports.bus import QUEUE_NOTIFICATIONS
from tests.identity.test_profile_api import add_member
from tests.notifications.helpers import BRAND, drain_notifications, subscription, vapid_private_key

WAITING = Notification(kind="waiting-list", key="waiting-list:r1", title="New waiting-list request",
                       body="A visitor is waiting for you", url="/conversations/requests/r1", tag="waiting-list")


@dataclass
class Response:
    status_code: int
    reason: str = ""
    text: str = ""
    headers: dict = field(default_factory=dict)


class PushService:
    """What pywebpush POSTs to: records each request, answers by endpoint (201 unless told)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: dict[str, int] = {}
        self.fail_after: int | None = None  # a crash (503) once this many pushes went out

    def post(self, url, data=None, headers=None, timeout=None, **_):
        if self.fail_after is not None and len(self.requests) >= self.fail_after:
            return Response(503, "Service Unavailable")
        lowered = {key.lower(): value for key, value in (headers or {}).items()}
        self.requests.append({"url": url, "data": data, "headers": lowered})
        return Response(self.answers.get(url, 201))

    def urls(self) -> list[str]:
        return [request["url"] for request in self.requests]


@pytest.fixture
def push(container):
    """The real Web Push adapter on a recording push service, installed as the container's notifier."""
    service_ = PushService()
    settings = Settings(env="test", notifier="webpush", vapid_private_key=vapid_private_key(),
                        vapid_subject="mailto:ops@popsell.test", webpush_ttl_seconds=3600)
    container.__dict__["notifier"] = WebPushNotifier(settings, session=service_)
    return service_


@pytest.fixture
def members(container):
    add_member(container, member_id="m1")
    add_member(container, member_id="m2")
    return container.store.for_brand(BRAND)


def register(container, member_id: str, endpoint: str) -> str:
    data = SubscriptionCreate.model_validate(subscription(endpoint))
    return subscriptions.register(store=container.store.for_brand(BRAND), member_id=member_id, data=data,
                                  now=container.clock.now()).id


def devices(container, member_id: str) -> list[str]:
    return [s.subscription_id for s in subscriptions.targets(store=container.store.for_brand(BRAND),
                                                             member_id=member_id)]


A, B, C = (f"https://push.example.com/wpush/{name}" for name in ("a", "b", "c"))


def test_a_push_goes_to_every_device_of_the_member_encrypted_with_vapid(container, members, push):
    register(container, "m1", A)
    register(container, "m1", B)
    register(container, "m2", C)
    notify_member(bus=container.bus, brand_id=BRAND, member_id="m1", notification=WAITING)
    assert drain_notifications(container) == 1
    assert sorted(push.urls()) == [A, B]
    headers = push.requests[0]["headers"]
    assert headers["content-encoding"] == "aes128gcm" and headers["ttl"] == "3600"
    assert headers["urgency"] == "normal" and len(headers["topic"]) <= 32
    assert headers["authorization"].startswith("vapid t=")
    # Encrypted for the device: the payload's words are not on the wire.
    assert b"waiting-list" not in push.requests[0]["data"]


@pytest.mark.parametrize("status", [404, 410])
def test_a_device_answered_gone_is_deleted_and_the_others_still_get_theirs(container, members, push, status):
    register(container, "m1", A)
    register(container, "m1", B)
    push.answers[A] = status
    notify_member(bus=container.bus, brand_id=BRAND, member_id="m1", notification=WAITING)
    drain_notifications(container)
    assert sorted(push.urls()) == [A, B]
    assert devices(container, "m1") == [subscriptions.subscription_id(B)]


def test_the_same_notification_twice_is_one_message_and_one_push_per_device(container, members, push):
    register(container, "m1", A)
    ids = {notify_member(bus=container.bus, brand_id=BRAND, member_id="m1", notification=WAITING) for _ in range(2)}
    assert len(ids) == 1
    drain_notifications(container)
    assert push.urls() == [A]


def test_a_second_delivery_of_the_same_message_sends_nothing_again(container, members, push):
    register(container, "m1", A)
    register(container, "m1", B)
    notify_member(bus=container.bus, brand_id=BRAND, member_id="m1", notification=WAITING)
    [message] = container.bus.receive(QUEUE_NOTIFICATIONS)
    first = service.handle_notification_message(message, store=container.store, notifier=container.notifier,
                                                now=container.clock.now())
    again = service.handle_notification_message(message, store=container.store, notifier=container.notifier,
                                                now=container.clock.now())
    assert first["sent"] == 2 and again == {"sent": 0, "skipped": 2, "gone": 0, "failed": 0}
    assert len(push.requests) == 2


def test_a_crash_between_two_devices_then_redelivery_sends_the_remaining_one_only(container, members, push):
    register(container, "m1", A)
    register(container, "m1", B)
    notify_member(bus=container.bus, brand_id=BRAND, member_id="m1", notification=WAITING)
    push.fail_after = 1  # the first device gets it, then the push service fails
    [message] = container.bus.receive(QUEUE_NOTIFICATIONS)
    with pytest.raises(TransientError):
        service.handle_notification_message(message, store=container.store, notifier=container.notifier,
                                            now=container.clock.now())
    container.bus.abandon(QUEUE_NOTIFICATIONS, message)
    first_device = push.urls()
    assert len(first_device) == 1

    push.fail_after = None
    assert drain_notifications(container) == 1  # redelivered, then completed
    assert sorted(push.urls()) == [A, B] and push.urls()[0] == first_device[0]
    assert container.bus.receive(QUEUE_NOTIFICATIONS) == []


def test_a_kind_the_member_opted_out_of_is_not_sent(client, container, members, push):
    from shared.identity import profiles
    from shared.identity.profiles import ProfileUpdate

    register(container, "m1", A)
    register(container, "m2", B)
    profiles.update(store=members, member_id="m1", changes=ProfileUpdate.model_validate(
        {"notifications": {"waitingList": False}}), now=container.clock.now())
    notify_members(bus=container.bus, brand_id=BRAND, member_ids=["m1", "m2", "m2"], notification=WAITING)
    assert drain_notifications(container) == 2
    assert push.urls() == [B]
    # Direct messages are still on for m1.
    direct = Notification(kind="direct-message", key="dm:c1:7", title="New message", body="Open the App to read it",
                          url="/conversations/c1", tag="conversation-c1", urgency="high")
    notify_member(bus=container.bus, brand_id=BRAND, member_id="m1", notification=direct)
    drain_notifications(container)
    assert push.urls() == [B, A] and push.requests[-1]["headers"]["urgency"] == "high"


def test_a_member_no_longer_active_gets_nothing(container, members, push):
    from shared.identity import repository

    register(container, "m1", A)
    member, etag = repository.get_member(store=members, member_id="m1")
    repository.save(store=members, container=repository.MEMBERS, model=member.model_copy(update={"status": "blocked"}),
                    etag=etag)
    notify_member(bus=container.bus, brand_id=BRAND, member_id="m1", notification=WAITING)
    drain_notifications(container)
    assert push.requests == []


def test_a_push_service_failure_is_transient_and_a_refusal_skips_only_that_device(container, members, push):
    register(container, "m1", A)
    register(container, "m1", B)
    push.answers[A] = 503
    notify_member(bus=container.bus, brand_id=BRAND, member_id="m1", notification=WAITING)
    [message] = container.bus.receive(QUEUE_NOTIFICATIONS)
    with pytest.raises(TransientError):
        service.handle_notification_message(message, store=container.store, notifier=container.notifier,
                                            now=container.clock.now())
    push.answers[A] = 400  # e.g. a payload the push service will never take: not retried for that device
    counts = service.handle_notification_message(message, store=container.store, notifier=container.notifier,
                                                 now=container.clock.now())
    assert counts["failed"] == 1 and len(devices(container, "m1")) == 2


def test_the_delivery_records_expire(container, members, push):
    from datetime import timedelta

    register(container, "m1", A)
    notify_member(bus=container.bus, brand_id=BRAND, member_id="m1", notification=WAITING)
    drain_notifications(container)
    assert len(members.query_all(service.PUSH_DELIVERIES)) == 1
    container.clock.advance(service.DELIVERY_RECORD_TTL + timedelta(minutes=1))
    container.store.purge_expired()
    assert members.query_all(service.PUSH_DELIVERIES) == []


def test_the_payload_is_title_body_url_and_tag_without_message_text(container, members):
    register(container, "m1", A)
    notify_member(bus=container.bus, brand_id=BRAND, member_id="m1", notification=WAITING)
    drain_notifications(container)  # the embedded default: the disk outbox
    [sent] = container.notifier.list(brand_id=BRAND)
    assert sent["payload"] == {"title": "New waiting-list request", "body": "A visitor is waiting for you",
                               "url": "/conversations/requests/r1", "tag": "waiting-list", "kind": "waiting-list"}
    assert sent["memberId"] == "m1" and sent["subscriptionId"] == subscriptions.subscription_id(A)
    assert "endpoint" not in json.dumps(sent)


def test_notifications_are_checked_before_they_are_queued():
    with pytest.raises(ValueError):
        Notification(kind="sms", key="k", title="t", body="b", url="/x", tag="t")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Notification(kind="waiting-list", key="k", title="t", body="b", url="https://evil.example", tag="t")


def test_the_webpush_adapter_refuses_a_missing_key_or_a_bad_subject():
    with pytest.raises(ValueError):
        WebPushNotifier(Settings(env="test", notifier="webpush"))
    with pytest.raises(ValueError):
        WebPushNotifier(Settings(env="test", notifier="webpush", vapid_private_key=vapid_private_key(),
                                 vapid_subject="ops@popsell.test"))


def test_production_refuses_the_disk_outbox(tmp_path):
    from popsell.bootstrap import Container

    settings = Settings.model_construct(env="production", notifier="outbox", data_dir=tmp_path)
    with pytest.raises(ValueError, match="POPSELL_NOTIFIER=webpush"):
        _ = Container(settings=settings).notifier
