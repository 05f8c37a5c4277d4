"""A contact's email status: what the messaging provider told us, shown to the member, blocking sends.

Guide v4, contact table, "Email status": spam, hard bounce, soft bounce, blocked, not verified;
"the Member is not able to send emails to a contact with a blocked status" and "only a Soft
bounce can be released manually by the Member in the CRM". `service.may_send` already refuses
every status of `BLOCKING_EMAIL_STATUSES` (soft bounce included, until it is released).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from shared.brands.models import Brand
from shared.crm import blacklist
from shared.crm import service as contacts
from shared.crm.models import Contact, EmailStatus
from shared.errors import Conflict
from shared.identity.models import Member
from shared.ports.store import BrandStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StatusRule:
    """How one status behaves: does it block sends, may the member release it, is it definitive."""

    blocks_sending: bool
    member_releasable: bool
    definitive: bool
    blacklist_reason: blacklist.BlacklistReason | None


# The guide's table. "Definitive" statuses go to the brand's black list (guide, "Contacts black
# list": "a definitive error (spam, hard bounce, block)") and are never replaced by a weaker one.
EMAIL_STATUS_TABLE: dict[EmailStatus, StatusRule] = {
    EmailStatus.VALID: StatusRule(False, False, False, None),
    EmailStatus.NOT_VERIFIED: StatusRule(False, False, False, None),  # only an invitation may go (may_send)
    EmailStatus.SOFT_BOUNCE: StatusRule(True, True, False, None),
    EmailStatus.HARD_BOUNCE: StatusRule(True, False, True, blacklist.BlacklistReason.HARD_BOUNCE),
    EmailStatus.SPAM: StatusRule(True, False, True, blacklist.BlacklistReason.SPAM),
    EmailStatus.BLOCKED: StatusRule(True, False, True, blacklist.BlacklistReason.BLOCKED),
}

class NotReleasable(Conflict):
    code = "email-status-not-releasable"
    title = "Only a soft bounce can be released"


def after_provider(current: EmailStatus, reported: EmailStatus) -> EmailStatus:
    """The status once the provider reports `reported`: a definitive status is never weakened."""
    if EMAIL_STATUS_TABLE[current].definitive and not EMAIL_STATUS_TABLE[reported].definitive:
        return current
    return reported


def release(*, store: BrandStore, brand: Brand, member: Member, contact_id: str, now: datetime) -> Contact:
    """The member releases a soft bounce of their own contact (back to valid); any other status: 409."""
    contact, etag = contacts.get_own(store=store, member_id=member.id, contact_id=contact_id)
    if not EMAIL_STATUS_TABLE[contact.email_status].member_releasable:
        raise NotReleasable(f"The email status is {contact.email_status.value}: only a soft bounce can be released")
    updated = contact.model_copy(update={
        "email_status": EmailStatus.VALID,
        "history": contact.history.model_copy(update={"modified_by": member.id, "modified_at": now}),
    })
    store.replace(contacts.CONTACTS, contacts.to_document(updated, brand), etag=etag)
    log.info("soft bounce of contact %s released by member %s", contact.id, member.id)
    return updated
