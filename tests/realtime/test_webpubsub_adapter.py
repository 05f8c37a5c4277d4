"""The Web PubSub adapter with the SDK client injected: what it asks the service for, and what it sends.

The service itself cannot be reached here (no Azure, no emulator): the token request's arguments and
the message body are what is tested; the SDK's own signing and HTTP are Microsoft's.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError

from shared.adapters.webpubsub_realtime import WebPubSubRealtime
from shared.config import Settings
from shared.errors import TransientError
from shared.ports.realtime import conversation_group, envelope, member_group
from shared.realtime import access

A = conversation_group(brand_id="acme", conversation_id="c1")
M = member_group(brand_id="acme", member_id="m1")


class FakeClient:
    def __init__(self, fail: Exception | None = None) -> None:
        self.calls: list[tuple[str, tuple, dict]] = []
        self.fail = fail

    def get_client_access_token(self, **kwargs):
        self.calls.append(("token", (), kwargs))
        if self.fail:
            raise self.fail
        base = "wss://popsell-wps.webpubsub.azure.com/client/hubs/popsell"
        return {"baseUrl": base, "token": "jwt", "url": f"{base}?access_token=jwt"}

    def send_to_group(self, *args, **kwargs):
        self.calls.append(("send", args, kwargs))
        if self.fail:
            raise self.fail

    def user_exists(self, **kwargs):
        self.calls.append(("user_exists", (), kwargs))
        if self.fail:
            raise self.fail
        return kwargs["user_id"] == "visitor:v1"

    def close(self):
        self.calls.append(("close", (), {}))


def _adapter(clock, client):
    return WebPubSubRealtime(Settings(realtime="webpubsub", webpubsub_endpoint="https://x"), clock=clock, client=client)


def test_the_token_joins_and_may_rejoin_only_the_callers_groups(clock):
    client = FakeClient()
    grant = access.negotiate(realtime=_adapter(clock, client), brand_id="acme", user_id="m1", groups=[A, M, A],
                             ttl=timedelta(seconds=90))
    assert client.calls == [("token", (), {
        "user_id": "m1",
        "roles": [f"webpubsub.joinLeaveGroup.{A}", f"webpubsub.joinLeaveGroup.{M}"],
        "groups": [A, M],
        "minutes_to_expire": 2,
    })]
    assert grant == {"url": "wss://popsell-wps.webpubsub.azure.com/client/hubs/popsell?access_token=jwt",
                     "token": "jwt", "expiresAt": "2030-01-01T09:02:00Z"}


def test_publish_sends_the_envelope_as_json_to_the_group(clock):
    client = FakeClient()
    message = envelope(type="conversation.message", brand_id="acme", data={"cursor": "7"}, sent_at=clock.now(), id="e1")
    _adapter(clock, client).publish(A, message)
    assert client.calls == [("send", (A, {"type": "conversation.message", "brandId": "acme", "data": {"cursor": "7"},
                                          "id": "e1", "sentAt": "2030-01-01T09:00:00Z"}),
                             {"content_type": "application/json"})]


def test_another_brands_envelope_is_never_sent(clock):
    client = FakeClient()
    message = envelope(type="x", brand_id="globex", data={}, sent_at=clock.now())
    with pytest.raises(ValueError):
        _adapter(clock, client).publish(A, message)
    with pytest.raises(ValueError):
        _adapter(clock, client).publish("acme:conversation:c1", message)
    assert client.calls == []


@pytest.mark.parametrize("error", [HttpResponseError(message="503"), ServiceRequestError(message="down")])
def test_a_failed_publish_is_transient_and_the_helper_swallows_it(clock, error, caplog):
    adapter = _adapter(clock, FakeClient(fail=error))
    with pytest.raises(TransientError):
        adapter.publish(A, envelope(type="x", brand_id="acme", data={}, sent_at=clock.now()))
    assert access.publish(realtime=adapter, clock=clock, group=A, type="x", brand_id="acme", data={}) is False
    assert "c1" not in caplog.text and "acme" not in caplog.text


def test_without_an_endpoint_or_connection_string_it_refuses_to_start(clock):
    with pytest.raises(ValueError, match="POPSELL_WEBPUBSUB_ENDPOINT"):
        WebPubSubRealtime(Settings(realtime="webpubsub"), clock=clock)


def test_the_endpoint_builds_a_managed_identity_client(clock):
    adapter = WebPubSubRealtime(Settings(realtime="webpubsub", webpubsub_endpoint="https://popsell-wps.webpubsub.azure.com",
                                         webpubsub_hub="popsell"), clock=clock)
    from azure.identity import DefaultAzureCredential

    assert isinstance(adapter._client._config.credential, DefaultAzureCredential)
    assert adapter._client._config.hub == "popsell"
    adapter.close()


def test_a_connection_string_builds_a_key_client_whose_token_names_the_roles(clock):
    import jwt

    key = "a" * 44
    adapter = WebPubSubRealtime(Settings(
        realtime="webpubsub",
        webpubsub_connection_string=f"Endpoint=https://popsell-wps.webpubsub.azure.com;AccessKey={key};Version=1.0;",
    ), clock=clock)
    grant = adapter.client_access(user_id="m1", groups=[A], ttl=timedelta(minutes=5))
    # Signed locally by the SDK with the key: no network. Its claims are the service's contract.
    claims = jwt.decode(grant.token, key, algorithms=["HS256"], options={"verify_aud": False, "verify_exp": False})
    assert claims["sub"] == "m1"
    assert claims["role"] in (f"webpubsub.joinLeaveGroup.{A}", [f"webpubsub.joinLeaveGroup.{A}"])
    assert claims["webpubsub.group"] in (A, [A])
    assert grant.url.startswith("wss://popsell-wps.webpubsub.azure.com/client/hubs/popsell?access_token=")


def test_presence_asks_the_service_whether_the_user_has_a_connection(clock):
    client = FakeClient()
    adapter = _adapter(clock, client)
    assert adapter.is_online("visitor:v1") is True and adapter.is_online("visitor:v2") is False
    assert client.calls == [("user_exists", (), {"user_id": "visitor:v1"}),
                            ("user_exists", (), {"user_id": "visitor:v2"})]
    with pytest.raises(TransientError):
        _adapter(clock, FakeClient(fail=ServiceRequestError("down"))).is_online("visitor:v1")
