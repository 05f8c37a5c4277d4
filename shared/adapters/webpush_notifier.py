"""Web Push with VAPID (RFC 8030, 8291, 8292) through pywebpush: the production notifier.

The payload is encrypted for the device (aes128gcm) and POSTed to the subscription's push service
with `TTL`, `Urgency` and `Topic` (the collapse key: a newer push of one topic replaces an undelivered
older one). 201/202: delivered. 404/410: the subscription is gone. 429, 5xx and network failures are
transient. Anything else (400 bad request, 401/403 a VAPID key the push service refuses, 413) is a
configuration or payload fault the push service will keep refusing: raised as PermanentError.
Nothing of the endpoint, the keys or the response body is logged (ids and status codes only).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from typing import Any

import requests
from pywebpush import WebPushException, webpush

from shared.config import Settings
from shared.errors import PermanentError, TransientError
from shared.ports.notifier import Notifier, PushMessage, PushOutcome, PushTarget

logger = logging.getLogger(__name__)

_GONE = frozenset({404, 410})


def topic_of(tag: str) -> str:
    """The `Topic` header: at most 32 characters of the URL-safe base64 alphabet (RFC 8030 §5.4)."""
    digest = hashlib.sha256(tag.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:32]


class WebPushNotifier(Notifier):
    """Sends through pywebpush; `session` (an object with requests' `post`) is injectable for tests."""

    def __init__(self, settings: Settings, *, session: Any | None = None, timeout: float = 10.0) -> None:
        if not settings.vapid_private_key:
            raise ValueError("POPSELL_NOTIFIER=webpush needs POPSELL_VAPID_PRIVATE_KEY")
        if not settings.vapid_subject.startswith(("mailto:", "https://")):
            raise ValueError("POPSELL_VAPID_SUBJECT must be a mailto: or https: URL")
        self._private_key = settings.vapid_private_key
        self._subject = settings.vapid_subject
        self._ttl = settings.webpush_ttl_seconds
        self._session = session if session is not None else requests.Session()
        self._timeout = timeout

    def send(self, target: PushTarget, message: PushMessage) -> PushOutcome:
        subscription = {"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh, "auth": target.auth}}
        try:
            webpush(
                subscription_info=subscription,
                data=json.dumps(message.payload(), separators=(",", ":"), ensure_ascii=False),
                vapid_private_key=self._private_key,
                vapid_claims={"sub": self._subject},  # a fresh dict: pywebpush sets aud and exp in it
                ttl=self._ttl,
                timeout=self._timeout,
                headers={"Urgency": message.urgency, "Topic": topic_of(message.tag)},
                requests_session=self._session,
            )
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            return self._failed(target, message, status)
        except requests.RequestException as exc:
            logger.warning("push %s to %s failed: %s", message.message_id, target.subscription_id,
                           type(exc).__name__)
            raise TransientError("The push service could not be reached") from None
        return PushOutcome.DELIVERED

    def _failed(self, target: PushTarget, message: PushMessage, status: int | None) -> PushOutcome:
        if status in _GONE:
            logger.info("push subscription %s is gone (%s)", target.subscription_id, status)
            return PushOutcome.GONE
        logger.warning("push %s to %s refused: %s", message.message_id, target.subscription_id, status)
        if status is None or status == 429 or status >= 500:
            raise TransientError(f"The push service answered {status}")
        raise PermanentError(f"The push service refused the push ({status})")
