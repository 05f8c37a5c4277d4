"""Campaigns: a member's publication (or a brand template) emailed to a selection of their own opted-in contacts.

Plan (select, check consent/black list, check the daily quotas), record the campaign, then fan
out one `emails` message per recipient under the id f"campaign:{campaign_id}:{contact_id}", so a
re-posted campaign (or a crash half-way) never sends one email twice. The content is either the member's
own (title, text, link) or a published brand template (`templateId`, see brand_templates.py); both
go through the same plan, quotas and fan-out. Quotas are counters in
"throttles" (see docs/crm-campaigns.md); exceeding one answers 429 with Retry-After.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator, model_validator

from shared.brands import service as brands
from shared.brands.models import Brand
from shared.crm import blacklist, brand_templates, campaign_stats, contact_footer
from shared.crm import service as contacts
from shared.crm.models import BLOCKING_EMAIL_STATUSES, Contact
from shared.emails.service import enqueue_email
from shared.errors import Conflict, InvalidInput, RateLimited
from shared.gdpr import restriction
from shared.identity.models import CamelModel, Member
from shared.ports.store import BrandStore, Filter, PatchOp
from shared.ports.store_retry import update_document
from shared.urls import https_url

if TYPE_CHECKING:
    from shared.ports.platform import Platform

log = logging.getLogger(__name__)

CAMPAIGNS = "campaigns"
THROTTLES = "throttles"
TEMPLATE = "contact_publication"
# Daily quotas (UTC days): a member's reach, and the brand's total to protect its sender reputation.
MEMBER_DAILY_RECIPIENTS = 2_000
BRAND_DAILY_RECIPIENTS = 50_000
PAGE = 500


MANUAL_FIELDS = ("title", "text", "link")


class CampaignCreate(CamelModel):
    """A publication (title, text, link) OR a brand template id, and who receives it (tags and/or contact ids)."""

    id: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    template_id: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    title: str | None = Field(None, min_length=1, max_length=200)
    text: str | None = Field(None, min_length=1, max_length=5000)
    link: str | None = Field(None, min_length=8, max_length=2000)
    signature: str | None = Field(None, max_length=300)
    tags: list[str] = Field(default_factory=list, max_length=50)
    contact_ids: list[str] = Field(default_factory=list, max_length=10_000)

    @field_validator("link")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        return None if value is None else https_url(value)

    @model_validator(mode="after")
    def _selection(self) -> CampaignCreate:
        if not self.tags and not self.contact_ids:
            raise ValueError("choose recipients by tags or contactIds")
        return self


class CampaignResult(CamelModel):
    """Counts only: no recipient is named."""

    id: str
    selected: int
    sent: int
    skipped: dict[str, int]


@dataclass(frozen=True)
class Content:
    """What every recipient gets, before personalisation; template id + version when from a template."""

    title: str
    text: str
    link: str
    locale: str
    template_id: str | None = None
    template_version: int | None = None


def check_form(data: CampaignCreate) -> None:
    """Exactly one content form: templateId, or title + text + link (422 naming the field)."""
    given = [name for name in MANUAL_FIELDS if getattr(data, name) is not None]
    if data.template_id is not None and given:
        raise InvalidInput("Send either templateId or title/text/link, not both", errors=[
            {"field": "templateId", "message": f"not allowed together with {', '.join(given)}"}])
    if data.template_id is None:
        missing = [name for name in MANUAL_FIELDS if name not in given]
        if missing:
            raise InvalidInput("A publication needs title, text and link (or a templateId)", errors=[
                {"field": name, "message": "required unless templateId is given"} for name in missing])


def resolve_content(*, store: BrandStore, brand: Brand, data: CampaignCreate) -> Content:
    """The campaign's content: the member's own, or a published template of this brand (404 / 422 otherwise)."""
    if data.template_id is None:
        assert data.title and data.text and data.link  # check_form ran
        content = Content(title=data.title, text=data.text, link=data.link, locale=brand.default_locale)
    else:
        template = brand_templates.published(store=store, template_id=data.template_id)
        content = Content(title=template.title, text=template.text, link=template.link, locale=template.locale,
                          template_id=template.id, template_version=template.version)
    # Checked again at send time: the brand's domains may have changed since the template was written.
    brands.check_link(brand, content.link, "link" if data.template_id is None else "templateId")
    return content


def skip_reason(*, store: BrandStore, contact: Contact) -> str | None:
    """Why this contact gets no publication (None: it may be sent)."""
    if contacts.may_send(store=store, contact=contact, purpose="member_publication"):
        return None
    if not contacts.has_address(contact):
        return "no_email"
    if blacklist.is_blocked(store=store, email_hash=contact.email_hash):
        return "blacklisted"
    if restriction.contact_restricted(store=store, email_hash=contact.email_hash):
        return "restricted"
    if contact.email_status in BLOCKING_EMAIL_STATUSES:
        return "email_blocked"
    return "not_opted_in"


def select(*, store: BrandStore, member_id: str, data: CampaignCreate) -> tuple[list[Contact], Counter[str]]:
    """The member's contacts chosen by tags or ids that may receive it, and the skipped ones by reason."""
    wanted_ids, wanted_tags = set(data.contact_ids), set(data.tags)
    recipients: list[Contact] = []
    skipped: Counter[str] = Counter()
    found: set[str] = set()
    continuation = None
    while True:
        page = store.query(contacts.CONTACTS, filters=[Filter("memberId", "=", member_id)], page_size=PAGE,
                           continuation=continuation)
        for doc in page.items:
            contact, _ = contacts.from_document(doc)
            if contact.id not in wanted_ids and not wanted_tags.intersection(contact.tags):
                continue
            found.add(contact.id)
            if contact.status != "active" or contacts.pending_confirmation(contact):
                skipped["not_found"] += 1
                continue
            reason = skip_reason(store=store, contact=contact)
            if reason:
                skipped[reason] += 1
            else:
                recipients.append(contact)
        continuation = page.continuation
        if continuation is None:
            break
    skipped["not_found"] += len(wanted_ids - found)  # another member's or unknown ids: not told apart
    return recipients, +skipped


def _retry_after(now: datetime) -> int:
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=now.tzinfo)
    return max(1, math.ceil((midnight - now).total_seconds()))


def _quota_ids(brand_id: str, member_id: str, now: datetime) -> list[tuple[str, int]]:
    day = now.strftime("%Y%m%d")
    return [(f"campaign-quota:member:{member_id}:{day}", MEMBER_DAILY_RECIPIENTS),
            (f"campaign-quota:brand:{brand_id}:{day}", BRAND_DAILY_RECIPIENTS)]


def take_quota(*, store: BrandStore, brand_id: str, member_id: str, count: int, now: datetime) -> None:
    """Count `count` recipients against today's member and brand quotas, or raise RateLimited (nothing counted)."""
    quotas = _quota_ids(brand_id, member_id, now)
    for doc_id, limit in quotas:
        used = (store.find(THROTTLES, doc_id) or {}).get("count", 0)
        if used + count > limit:
            raise RateLimited("Daily campaign quota reached; try again tomorrow", retry_after=_retry_after(now))
    for doc_id, _ in quotas:
        # Concurrent campaigns each count; past five lost races the count is let go, as it always was.
        update_document(store, THROTTLES, doc_id, attempts=5, exhausted=lambda: None,
                        change=lambda doc, doc_id=doc_id: {"id": doc_id, "count": (doc or {}).get("count", 0) + count,
                                                           "ttl": 2 * 86_400})


def message_id(campaign_id: str, contact_id: str) -> str:
    """The deterministic email id of one recipient of one campaign."""
    return f"campaign:{campaign_id}:{contact_id}"


def _result(doc: dict[str, Any]) -> CampaignResult:
    return CampaignResult(id=doc["id"], selected=doc["selected"], sent=doc["sent"], skipped=doc["skipped"])


def send(*, container: Platform, brand: Brand, member: Member, data: CampaignCreate, now: datetime) -> CampaignResult:
    """Plan, record and fan out a campaign; a re-posted campaign id answers its first result and sends nothing."""
    store = container.store.for_brand(brand.id)
    check_form(data)
    campaign_id = data.id or f"cp-{uuid.uuid4().hex}"
    existing = store.find(CAMPAIGNS, campaign_id)
    if existing:
        if existing.get("memberId") != member.id:
            raise Conflict("This campaign id is already used")
        if existing.get("status") == "sent":
            return _result(existing)
    content = resolve_content(store=store, brand=brand, data=data)
    recipients, skipped = select(store=store, member_id=member.id, data=data)
    if not existing:
        take_quota(store=store, brand_id=brand.id, member_id=member.id, count=len(recipients), now=now)
    doc = {"id": campaign_id, "memberId": member.id, "createdAt": now.isoformat(), "title": content.title,
           "link": content.link, "status": "sending", "selected": len(recipients) + sum(skipped.values()),
           "sent": len(recipients), "skipped": dict(skipped)}
    if content.template_id:
        doc.update(templateId=content.template_id, templateVersion=content.template_version)
    if existing:
        store.replace(CAMPAIGNS, {**doc, "createdAt": existing["createdAt"]}, etag=existing.get("_etag"))
    else:
        store.create(CAMPAIGNS, doc)
        # Dashboards: counted once, when the campaign is first recorded (a re-post re-sends nothing new).
        campaign_stats.record_sent(store=store, campaign_id=campaign_id, member_id=member.id, sent_at=now,
                                   count=len(recipients))
    _fan_out(container, brand, member, data, content, campaign_id, recipients)
    store.patch(CAMPAIGNS, campaign_id, [_set("status", "sent")])
    log.info("campaign %s of member %s: %d sent, %d skipped (brand %s)", campaign_id, member.id, len(recipients),
             sum(skipped.values()), brand.id)
    return _result(doc)


def _set(path: str, value: Any) -> Any:
    return PatchOp("set", path, value)


def _fan_out(container: Platform, brand: Brand, member: Member, data: CampaignCreate, content: Content,
             campaign_id: str, recipients: list[Contact]) -> None:
    settings = container.settings
    member_name = " ".join(p for p in (member.first_name, member.last_name) if p) or brand.name
    signature = data.signature or member_name
    base: dict[str, Any] = {**brands.email_data(brand), "member_name": member_name, "signature": signature,
                            "title": content.title, "text": content.text, "link": content.link}
    for contact in recipients:
        footer = contact_footer.data(settings, brand_id=brand.id, contact_id=contact.id, member_id=member.id)
        first_name = contact.first_name or ""
        personal = dict(base)
        if content.template_id:  # only brand templates carry placeholders (validated when written)
            personal.update({field: brand_templates.personalise(content_value, first_name=first_name,
                                                                member_name=member_name, signature=signature)
                             for field, content_value in (("title", content.title), ("text", content.text))})
        enqueue_email(
            bus=container.bus, brand_id=brand.id, template=TEMPLATE, to_email=contact.email or "",
            to_name=" ".join(p for p in (contact.first_name, contact.last_name) if p) or None,
            locale=content.locale, data={**personal, "first_name": first_name, **footer},
            message_id=message_id(campaign_id, contact.id), settings=settings,
            headers=contact_footer.unsubscribe_headers(footer),
            event_payload=json.dumps({"brandId": brand.id, "contactId": contact.id, "campaignId": campaign_id}),
            contact_id=contact.id,
        )
