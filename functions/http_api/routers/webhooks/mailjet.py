"""Mailjet event callbacks: authenticated by basic auth in the callback URL, queued, answered at once.

Mailjet retries any answer other than 200 every 30 s for 24 h, so the route only checks the
credentials and the shape, drops the personal fields (address, IP, user agent, URL) and
enqueues one message per event on "provider-events"; the queue function does the work.
"""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from shared import json_input
from shared.config import Settings
from shared.crm import provider_events
from shared.errors import InvalidInput, Unauthorized
from shared.macs import mac_matches
from shared.privacy.keys import derive_key

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])

WEBHOOK_USER = "mailjet"
MAX_BODY = 2_000_000


class WebhookAccepted(BaseModel):
    accepted: int


def webhook_secret(settings: Settings) -> str:
    """The callback password: POPSELL_MAILJET_WEBHOOK_SECRET, else derived from the API secret; "" = refuse all."""
    if settings.mailjet_webhook_secret:
        return settings.mailjet_webhook_secret
    if settings.mailjet_api_secret:
        # A derived value, so the API secret itself never sits in Mailjet's callback URL.
        return derive_key(settings.mailjet_api_secret, "mailjet-webhook").hex()
    return ""


def _check_basic_auth(header: str | None, secret: str) -> None:
    """Constant-time comparison of the basic-auth credentials; 401 when absent or wrong."""
    supplied = b""
    if header and header[:6].lower() == "basic ":
        try:
            supplied = base64.b64decode(header[6:].strip(), validate=True)
        except (binascii.Error, ValueError):
            supplied = b""
    expected = f"{WEBHOOK_USER}:{secret}".encode()
    if not secret or not mac_matches(supplied, expected):
        raise Unauthorized("Invalid webhook credentials")


@router.post("/mailjet", response_model=WebhookAccepted, responses=problem_responses(400, 401, 422),
             **access("webhook"))
async def mailjet_events(request: Request, container: ContainerDep) -> WebhookAccepted:
    """Receive Mailjet event callbacks (basic auth) and queue them for processing."""
    _check_basic_auth(request.headers.get("authorization"), webhook_secret(container.settings))
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise InvalidInput("The body is too large", errors=[{"field": "body", "message": "too large"}])
    data = json_input.parse(raw)
    events = provider_events.parse_mailjet(data, container.hasher)
    count = await run_in_threadpool(provider_events.enqueue, bus=container.bus, events=events)
    return WebhookAccepted(accepted=count)
