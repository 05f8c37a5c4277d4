"""The production mailer: Mailjet Send API v3.1, in batches of at most 50 messages a call."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from shared.config import Settings
from shared.ports.mailer import Mailer, RenderedEmail, SendResult

logger = logging.getLogger(__name__)

# Send API v3.1 takes at most 50 messages per call (v3 takes 100 but reports errors poorly).
MAX_MESSAGES_PER_CALL = 50
# Account-level refusals (bad or disabled key): nothing wrong with the emails, so retry them
# once the account is fixed instead of dead-lettering a whole batch.
_ACCOUNT_STATUSES = frozenset({401, 403})


def build_message(email: RenderedEmail) -> dict[str, Any]:
    """One element of the v3.1 `Messages` array for a rendered email."""
    recipient: dict[str, str] = {"Email": email.to_email}
    if email.to_name:
        recipient["Name"] = email.to_name
    message: dict[str, Any] = {
        "From": {"Email": email.from_email, "Name": email.from_name},
        "To": [recipient],
        "Subject": email.subject,
        "TextPart": email.text,
        "HTMLPart": email.html,
        # CustomID comes back on every event webhook, which ties events to our message id.
        "CustomID": email.message_id,
    }
    if email.headers:
        message["Headers"] = dict(email.headers)
    if email.event_payload:
        message["EventPayload"] = email.event_payload
    if email.inline_images:
        message["InlinedAttachments"] = [
            {"ContentType": image.content_type, "Filename": image.filename, "ContentID": image.content_id,
             "Base64Content": image.base64_content} for image in email.inline_images]
    return message


def build_payloads(emails: list[RenderedEmail]) -> list[dict[str, Any]]:
    """The request bodies that send `emails`, at most MAX_MESSAGES_PER_CALL messages each."""
    return [{"Messages": [build_message(email) for email in batch]} for batch in _batches(emails)]


def _batches(emails: list[RenderedEmail]) -> list[list[RenderedEmail]]:
    return [emails[start : start + MAX_MESSAGES_PER_CALL] for start in range(0, len(emails), MAX_MESSAGES_PER_CALL)]


class MailjetMailer(Mailer):
    """Sends through Mailjet with basic auth (API key, secret); one SendResult per email, in order."""

    def __init__(self, settings: Settings, *, transport: httpx.BaseTransport | None = None) -> None:
        if not (settings.mailjet_api_key and settings.mailjet_api_secret):
            raise ValueError("POPSELL_MAILJET_API_KEY and POPSELL_MAILJET_API_SECRET are required for mailer=mailjet")
        self._url = settings.mailjet_url
        self._client = httpx.Client(
            auth=(settings.mailjet_api_key, settings.mailjet_api_secret),
            transport=transport,
            timeout=httpx.Timeout(30.0, connect=10.0),
            headers={"Accept": "application/json"},
        )

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._client.close()

    def send(self, emails: list[RenderedEmail]) -> list[SendResult]:
        """Send in batches of 50; a failed batch never hides the results of the others."""
        return [result for batch in _batches(emails) for result in self._send_batch(batch)]

    def _send_batch(self, batch: list[RenderedEmail]) -> list[SendResult]:
        payload = {"Messages": [build_message(email) for email in batch]}
        try:
            response = self._client.post(self._url, json=payload)
        except httpx.HTTPError as exc:
            # Network errors and timeouts: the provider may or may not have the batch; the
            # queue retries, and CustomID lets the event webhooks reconcile.
            return self._all_failed(batch, f"network error: {type(exc).__name__}", retryable=True)

        status = response.status_code
        if status == 429 or status >= 500:
            return self._all_failed(batch, f"http {status}", retryable=True)
        body = _json_or_none(response)
        messages = body.get("Messages") if isinstance(body, dict) else None
        if _matches(batch, messages):
            return [_result(email, message) for email, message in zip(batch, messages, strict=True)]
        if 200 <= status < 300:
            # A 2xx only comes when every message was accepted; keep that even if the body is odd.
            logger.warning("mailjet accepted a batch with an unreadable body", extra={"count": len(batch)})
            return [SendResult(message_id=e.message_id, provider_id=None, accepted=True) for e in batch]
        return self._all_failed(batch, _describe_call_error(status, body), retryable=status in _ACCOUNT_STATUSES)

    @staticmethod
    def _all_failed(batch: list[RenderedEmail], error: str, *, retryable: bool) -> list[SendResult]:
        logger.warning(
            "mailjet batch failed",
            extra={"error": error, "retryable": retryable, "message_ids": [e.message_id for e in batch]},
        )
        return [
            SendResult(message_id=e.message_id, provider_id=None, accepted=False, error=error, retryable=retryable)
            for e in batch
        ]


def _matches(batch: list[RenderedEmail], messages: Any) -> bool:
    """The response lists one result per email, in request order (checked by CustomID when echoed)."""
    if not isinstance(messages, list) or len(messages) != len(batch):
        return False
    return all(
        not isinstance(message, dict) or message.get("CustomID") in (None, email.message_id)
        for email, message in zip(batch, messages, strict=True)
    )


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _result(email: RenderedEmail, message: Any) -> SendResult:
    """Map one element of the response's `Messages` array (same order as the request)."""
    if not isinstance(message, dict):
        return SendResult(message_id=email.message_id, provider_id=None, accepted=False, error="unreadable result")
    if message.get("Status") == "success":
        recipients = message.get("To") or [{}]
        first = recipients[0] if isinstance(recipients[0], dict) else {}
        # MessageID is what the event webhooks carry; MessageUUID only when it is missing.
        provider_id = first.get("MessageID") or first.get("MessageUUID")
        logger.info("mailjet accepted email", extra={"message_id": email.message_id})
        return SendResult(
            message_id=email.message_id,
            provider_id=str(provider_id) if provider_id is not None else None,
            accepted=True,
        )
    errors = [error for error in message.get("Errors") or [] if isinstance(error, dict)]
    codes = [_int(error.get("StatusCode")) for error in errors]
    retryable = any(code == 429 or code >= 500 for code in codes)
    # ErrorMessage can quote the address ('"x@y" is an invalid email address'): keep only the
    # error code and the field path, which carry no personal data.
    described = "; ".join(
        f"{error.get('ErrorCode') or 'error'} ({_int(error.get('StatusCode'))})"
        + (f" {','.join(map(str, error.get('ErrorRelatedTo') or []))}" if error.get("ErrorRelatedTo") else "")
        for error in errors
    )
    logger.warning("mailjet refused email", extra={"message_id": email.message_id, "retryable": retryable})
    return SendResult(
        message_id=email.message_id,
        provider_id=None,
        accepted=False,
        error=described or "refused",
        retryable=retryable,
    )


def _describe_call_error(status: int, body: Any) -> str:
    """A whole-call error: status and Mailjet's error code, without its free text."""
    code = body.get("ErrorCode") if isinstance(body, dict) else None
    return f"http {status}" + (f" {code}" if code else "")


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
