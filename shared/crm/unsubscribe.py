"""One-click unsubscribe links of campaign emails (RFC 8058): signed tokens, no storage.

The token carries brand, contact and member ids, signed with an HMAC key derived from the
hash master key; "this member" moves the contact to "opt-out from an email", "brand" is the
global opt-out (hash blacklisted). Both are idempotent: a link used twice changes nothing more.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from datetime import datetime
from typing import Literal

from shared.brands.models import Brand
from shared.config import Settings
from shared.crm import blacklist, consent, contact_journal
from shared.crm import service as contacts
from shared.crm.consent import ConsentEvent, InvalidTransition, MemberOptIn
from shared.crm.events import consent_changed
from shared.errors import NotFound
from shared.events.model import Publisher
from shared.gdpr.journal import Journal
from shared.macs import mac_matches
from shared.ports.store import BrandStore, DocumentNotFound
from shared.privacy.keys import derive_key

log = logging.getLogger(__name__)

Scope = Literal["member", "brand"]


def _key(settings: Settings) -> bytes:
    return derive_key(settings.hash_master_key, "campaign-unsubscribe")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(settings: Settings, *, brand_id: str, contact_id: str, member_id: str) -> str:
    """A signed, URL-safe token naming who unsubscribes from whom."""
    body = _b64(json.dumps({"b": brand_id, "c": contact_id, "m": member_id}, separators=(",", ":")).encode())
    return f"{body}.{_b64(hmac.new(_key(settings), body.encode(), hashlib.sha256).digest()[:20])}"


def read_token(settings: Settings, brand_id: str, token: str) -> tuple[str, str]:
    """(contact id, member id) of a valid token of this brand; anything else answers 404."""
    body, _, signature = token.partition(".")
    expected = _b64(hmac.new(_key(settings), body.encode(), hashlib.sha256).digest()[:20])
    if not mac_matches(signature, expected):
        raise NotFound("Unknown unsubscribe link")
    try:
        data = json.loads(_unb64(body))
    except ValueError as exc:
        raise NotFound("Unknown unsubscribe link") from exc
    if data.get("b") != brand_id:
        raise NotFound("Unknown unsubscribe link")
    return str(data["c"]), str(data["m"])


def link(settings: Settings, brand_id: str, token: str) -> str:
    """The public unsubscribe URL (the API route itself, so that one-click POST works)."""
    return f"{settings.public_base_url.rstrip('/')}/api/v1/app/{brand_id}/unsubscribe/{token}"


def unsubscribe(*, store: BrandStore, journal: Journal, events: Publisher, brand: Brand, settings: Settings,
                token: str, scope: Scope, now: datetime) -> Scope:
    """Apply the link's choice once; a repeated use is a no-op. Returns the scope applied."""
    contact_id, member_id = read_token(settings, brand.id, token)
    try:
        contact, etag = contacts.from_document(store.get(contacts.CONTACTS, contact_id))
    except DocumentNotFound as exc:
        raise NotFound("Unknown unsubscribe link") from exc
    if contact.member_id != member_id:
        raise NotFound("Unknown unsubscribe link")
    if scope == "brand":
        if contact.member_opt_in == MemberOptIn.GLOBAL_OPT_OUT:
            if contact.email_hash:  # already out: make sure the hash is (still) blacklisted
                blacklist.add(store=store, email_hash=contact.email_hash,
                              reason=blacklist.BlacklistReason.GLOBAL_OPT_OUT, now=now,
                              journal=journal)
        else:
            contact_journal.global_opt_out(store=store, journal=journal, events=events, brand=brand,
                                           contact_id=contact_id, now=now)
    elif contact.member_opt_in not in (MemberOptIn.OPT_OUT_EMAIL, MemberOptIn.GLOBAL_OPT_OUT):
        try:
            updated = contact.with_consent(consent.transition(contact.consent, ConsentEvent.OPT_OUT_FROM_EMAIL, now))
        except InvalidTransition:
            return scope
        contact_journal.record_opt_outs(journal=journal, before=contact, after=updated, now=now)
        store.replace(contacts.CONTACTS, contacts.to_document(updated, brand), etag=etag)
        events.publish(*consent_changed(brand.id, contact, updated, cause=ConsentEvent.OPT_OUT_FROM_EMAIL, now=now))
    log.info("contact %s unsubscribed (%s) from member %s, brand %s", contact_id, scope, member_id, brand.id)
    return scope
