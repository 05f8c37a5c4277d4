"""The realtime port on Azure Web PubSub (azure-messaging-webpubsubservice), from inside the API.

The API hands clients a URL whose token (minted by the service for this hub) carries the roles
`webpubsub.joinLeaveGroup.<group>` of the caller's groups only, and joins them on connect; the
server publishes with send-to-group (JSON) after the store write. In production the client is
built on the endpoint and the app's managed identity (the "Web PubSub Service Owner" role,
infra/modules/webpubsub.bicep; local auth is disabled on the resource); a connection string is
accepted for dev tools. Tests inject the SDK client: this adapter never runs without Azure here.
"""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from typing import Any

from azure.core.exceptions import AzureError

from shared.clock import Clock
from shared.config import Settings
from shared.errors import TransientError
from shared.ports.realtime import DEFAULT_TTL, ClientAccess, Realtime, check_access, check_publish

log = logging.getLogger("popsell.realtime")


def join_roles(groups: list[str]) -> list[str]:
    """The Web PubSub roles that let a connection join and leave exactly `groups`."""
    return [f"webpubsub.joinLeaveGroup.{group}" for group in groups]


class WebPubSubRealtime(Realtime):
    """Publishes to Web PubSub groups; mints client tokens scoped to the caller's groups."""

    def __init__(self, settings: Settings, *, clock: Clock, client: Any = None) -> None:
        self._clock = clock
        self._credential: Any = None
        if client is None:
            from azure.messaging.webpubsubservice import WebPubSubServiceClient

            if settings.webpubsub_connection_string:
                client = WebPubSubServiceClient.from_connection_string(
                    settings.webpubsub_connection_string, hub=settings.webpubsub_hub)
            else:
                if not settings.webpubsub_endpoint:
                    raise ValueError("POPSELL_WEBPUBSUB_ENDPOINT is required with POPSELL_REALTIME=webpubsub")
                from azure.identity import DefaultAzureCredential

                self._credential = DefaultAzureCredential()
                client = WebPubSubServiceClient(
                    endpoint=settings.webpubsub_endpoint, hub=settings.webpubsub_hub, credential=self._credential)
        self._client = client

    def publish(self, group: str, message: dict[str, Any]) -> None:
        check_publish(group, message)
        try:
            # A dict with application/json: the SDK serialises it as the request's JSON body.
            self._client.send_to_group(group, message, content_type="application/json")
        except AzureError as exc:
            # Neither the group (it names ids) nor the message is logged.
            log.warning("realtime publish failed: %s", type(exc).__name__)
            raise TransientError("realtime publish failed") from exc

    def client_access(self, *, user_id: str, groups: list[str], ttl: timedelta = DEFAULT_TTL) -> ClientAccess:
        check_access(groups, ttl)
        minutes = max(1, math.ceil(ttl.total_seconds() / 60))
        now = self._clock.now()
        try:
            token = self._client.get_client_access_token(
                user_id=user_id, roles=join_roles(groups), groups=list(groups), minutes_to_expire=minutes)
        except AzureError as exc:
            log.warning("realtime token request failed: %s", type(exc).__name__)
            raise TransientError("realtime token request failed") from exc
        return ClientAccess(url=token["url"], token=token.get("token"), expires_at=now + timedelta(minutes=minutes))

    def is_online(self, user_id: str) -> bool:
        try:
            return bool(self._client.user_exists(user_id=user_id))
        except AzureError as exc:
            log.warning("realtime presence check failed: %s", type(exc).__name__)
            raise TransientError("realtime presence check failed") from exc

    def close(self) -> None:
        close = getattr(self._client, "close", None)
        if callable(close):
            close()
        if self._credential is not None:
            self._credential.close()
