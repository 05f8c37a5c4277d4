"""The contacts' rights page: proof of control of an address, then a short rights session.

Contacts have no App account. A contact asks with their address (`request_proof`): the answer is
the same whether the brand's members hold that address or not; when they do, a one-time link
(`PROOF_TTL`) is emailed to it, at most one per address per `PROOF_TTL` (while a link still works,
no second one is sent), and each client IP may ask `IP_POLICY` times an hour. The link's token opens
a rights session (`open_session`, single use: a second use answers 410, an unknown token or another
brand's 404): a signed token of audience "contact" for `SESSION_TTL`, scoped to the keyed hash of
that address, so to every contact of the brand with it, across members. Requests made with it are
shared.gdpr.requests.submit_contact.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from shared.brands import service as brands
from shared.brands.models import Brand
from shared.crm import contact_footer
from shared.emails.service import enqueue_email
from shared.errors import InvalidInput, NotFound, RateLimited
from shared.gdpr import contact_subject, restriction
from shared.identity import action_tokens, throttle
from shared.identity.tokens import Audience

if TYPE_CHECKING:
    from shared.ports.platform import Platform

log = logging.getLogger(__name__)

PROOF_PURPOSE = "contact_rights_proof"
PROOF_TTL = timedelta(hours=1)
SESSION_TTL = timedelta(minutes=30)
SESSION_AUDIENCE: Audience = "contact"
PROOF_TEMPLATE = "contact_rights_link"
# One proof email per address while its link works: the counter locks for the link's lifetime.
PROOF_MAIL_POLICY = throttle.ThrottlePolicy(max_failures=1, window=PROOF_TTL, lockout=PROOF_TTL)
# Asking is cheap for a sender and costs an email: ten a client address an hour.
IP_POLICY = throttle.ThrottlePolicy(max_failures=10, window=timedelta(hours=1), lockout=timedelta(hours=1))


@dataclass(frozen=True)
class Session:
    """An open rights session: the token to send as a bearer, and when it stops working."""

    token: str
    expires_at: datetime


def _proof_url(container: Platform, brand_id: str, token: str) -> str:
    # The token rides in the fragment: browsers never send it to servers or in Referer.
    return f"{contact_footer.rights_page_url(container.settings, brand_id)}#token={token}"


def request_proof(*, container: Platform, brand: Brand, email: str, ip_hash: str | None, now: datetime) -> None:
    """Email a one-time link to the address if the brand's members hold it; silent otherwise (429 past the IP limit)."""
    store = container.store.for_brand(brand.id)
    if ip_hash:
        # Counted before anything is looked up: the limit says nothing about the address.
        throttle.count(store=store, limits=[throttle.Limit(f"rights-proof-ip:{ip_hash}", IP_POLICY)], now=now)
    email_hash = container.hasher(brand.id)("email", email)
    if not contact_subject.exists(store=store, email_hash=email_hash):
        return
    try:
        throttle.count(store=store, limits=[throttle.Limit(f"rights-proof:{email_hash}", PROOF_MAIL_POLICY)], now=now)
    except RateLimited:
        return  # a link sent less than PROOF_TTL ago still works: same answer, no second email
    token = action_tokens.create(store=store, purpose=PROOF_PURPOSE, subject=email_hash, now=now, ttl=PROOF_TTL)
    data = {**brands.email_data(brand), **contact_footer.data(container.settings, brand_id=brand.id),
            "proof_url": _proof_url(container, brand.id, token),
            "expires_in_minutes": int(PROOF_TTL.total_seconds() // 60)}
    enqueue_email(bus=container.bus, brand_id=brand.id, template=PROOF_TEMPLATE, to_email=email, to_name=None,
                  locale=brand.default_locale, data=data, settings=container.settings,
                  message_id=f"contact-rights-proof:{action_tokens.token_hash(token)[:32]}")
    log.info("contact rights proof link sent on brand %s", brand.id)


def open_session(*, container: Platform, brand_id: str, token: str, now: datetime) -> Session:
    """Use a proof link once and open a rights session on its address: 404 unknown (or another brand's), 410 used."""
    store = container.store.for_brand(brand_id)
    try:
        used = action_tokens.consume(store=store, purpose=PROOF_PURPOSE, token=token, now=now)
    except InvalidInput as exc:
        # Another brand's link is unknown here: the same answer as a forged one.
        raise NotFound("This link is not valid") from exc
    log.info("contact rights session opened on brand %s", brand_id)
    return Session(token=container.tokens.issue(subject=used.subject, audience=SESSION_AUDIENCE, brand_id=brand_id,
                                                now=now, ttl=SESSION_TTL),
                   expires_at=now + SESSION_TTL)


def restricted_since(*, container: Platform, brand_id: str, email_hash: str) -> datetime | None:
    """Since when the person's processing is restricted (None: it is not), for the page to offer the other."""
    held = restriction.contact_restriction(store=container.store.for_brand(brand_id), email_hash=email_hash)
    return held.since if held else None
