"""The offline notice: one email to a visitor who is away when a member replies, per unread burst.

The guide lets `email_tmp` serve one purpose: tell the visitor, once, that a member replied while
they were not there. So, for a member's message to a visitor, from the `domain-events` queue:
- nothing when the visitor is connected (the realtime port's presence: the push reaches them), has
  read the message already, has no `email_tmp` (given only with the service terms), or the address
  is on the brand's black list;
- otherwise one email per *burst*: the replies since the visitor last read the conversation. The
  visitor's inbox entry remembers the read mark a notice was sent for (`noticedAt`); further
  replies before the visitor reads again send nothing; once they read, the next reply while they
  are away is a new burst.
The email names the brand, carries the link that reopens the conversation in the brand's site
(its widget reads `#popsell-conversation=<id>`), and never the message's text or the member's name.
Its message id derives from the conversation and the read mark: a redelivery before the mark is
written enqueues the same email, which the email pipeline sends once.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from shared.brands import service as brands
from shared.conversations.conversations import INBOX
from shared.conversations.events import MessagePosted
from shared.crm import blacklist
from shared.emails.service import enqueue_email
from shared.identity import repository
from shared.ports.platform import Platform
from shared.ports.store import BrandStore, EtagMismatch
from shared.ports.store_retry import update_document

log = logging.getLogger(__name__)
TEMPLATE = "conversation_reply"
_ATTEMPTS = 5


def conversation_url(home_url: str, conversation_id: str) -> str:
    """The brand's site, opening the conversation in its widget."""
    return f"{home_url.split('#', 1)[0]}#popsell-conversation={conversation_id}"


def _entry(store: BrandStore, visitor_key: str, conversation_id: str) -> dict[str, Any] | None:
    return store.find(INBOX, f"{visitor_key}:{conversation_id}")


def notice_offline_visitor(*, platform: Platform, event: MessagePosted) -> None:
    """Email the visitor a member replied to while they were away, once per unread burst."""
    if not (event.author.startswith("member:") and event.recipient.startswith("visitor:")):
        return
    store = platform.store.for_brand(event.brand_id)
    entry = _entry(store, event.recipient, event.conversation_id)
    if entry is None or entry["readSeq"] >= event.seq:
        return  # read already (or not the visitor's conversation any more)
    burst = entry["readSeq"]
    if entry.get("noticedAt") == burst:
        return  # this burst had its email
    visitor = repository.get_visitor(store=store, visitor_id=event.recipient.partition(":")[2])[0]
    if visitor.status != "active" or not visitor.email_tmp or visitor.service_terms is None:
        return
    if blacklist.is_blocked(store=store, email_hash=visitor.email_tmp_hash):
        return
    if platform.realtime.is_online(event.recipient):
        return  # connected: the push reached them
    brand = brands.get(store=platform.store, brand_id=event.brand_id)
    home = brand.home_url or platform.settings.link_fallback_url
    digest = hashlib.sha256(f"{event.conversation_id}\x1f{burst}".encode()).hexdigest()[:32]
    enqueue_email(bus=platform.bus, brand_id=brand.id, template=TEMPLATE, to_email=visitor.email_tmp,
                  to_name=visitor.first_name, locale=brand.default_locale, settings=platform.settings,
                  data={**brands.email_data(brand), "conversation_url": conversation_url(str(home),
                                                                                         event.conversation_id)},
                  message_id=f"conversation-reply:{digest}")

    def noticed(doc: dict[str, Any] | None) -> dict[str, Any] | None:
        if doc is None or doc.get("noticedAt") == burst:
            return None
        return {**doc, "noticedAt": burst}

    try:
        update_document(store, INBOX, entry["id"], noticed, attempts=_ATTEMPTS)
    except EtagMismatch:  # busy: the email's id makes a second enqueue harmless
        log.info("offline notice of conversation %s: mark deferred", event.conversation_id)
    log.info("offline notice queued for conversation %s", event.conversation_id)
