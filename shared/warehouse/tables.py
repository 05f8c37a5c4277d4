"""The warehouse's tables: for each exported entity, the one allow-list of what leaves production.

Data Protection Guide v4, "Data exported": everything exported is anonymous except first name,
last name and alias of Members; email addresses, phone numbers and complete postal addresses are
never exported; city, postal code, or a geocode no finer than the city, are. Each table names its
columns (everything else is dropped) and, path by path, what it withholds and why:
`tests/warehouse/test_warehouse_allow_list.py` holds both against the models and the stored documents
(a path a column reads is that path exactly; a withheld path is withheld with everything under it),
so a field a later issue adds is refused by the tests until someone classifies it here.

No production hash leaves (email, customer id, social ids, visitor keys, the order fingerprint):
see docs/decisions/0013 and 0026. Join keys are production ids, except a contact's, which is
derived from its email by keyed hash: contacts leave under a reference keyed for this brand and
day only (`Context.reference`), which orders carry too.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.crm.campaign_stats import CAMPAIGN_KIND, COUNTERS, MARK_KIND, MEMBER_DAY_KIND
from shared.identity.models import Role
from shared.ports.store import Document
from shared.tracking.counters import COUNT_FIELDS, MONEY_FIELDS
from shared.warehouse.columns import (
    Column,
    Context,
    Read,
    at,
    day,
    day_of,
    flag,
    integer,
    length,
    money,
    present,
    rows,
    tally,
    text,
)

ANY_KIND = "*"


@dataclass(frozen=True)
class Dataset:
    """One file of a snapshot: the container it reads, which of its documents, its columns and what it withholds."""

    name: str
    container: str
    columns: tuple[Column, ...]
    withheld: dict[str, str]  # document path -> why it never leaves
    # In a container of several kinds of documents, the `kind` of those read (None: the ones without a kind).
    kind: str | None = ANY_KIND

    @property
    def file(self) -> str:
        return f"{self.name}.jsonl"

    def selects(self, doc: Document) -> bool:
        """Whether this table reads `doc` (its container may hold other kinds too)."""
        return self.kind == ANY_KIND or doc.get("kind") == self.kind


_ID = "opaque id: lets tables join"
_BRAND = "the brand the row belongs to"
_KPI = "dashboards and reports (not personal on its own)"
_INTERNAL = "the platform's own bookkeeping: nothing a report reads"
_HASH = "a keyed hash: pseudonymous personal data, never exported (decision 0013)"
# The first columns of every table of documents with an id of their own.
_KEYS = (Column("id", text("id"), _ID), Column("brandId", text("brandId"), _BRAND))


# --- members and visitors ---------------------------------------------------------------------------


def _names_erased(doc: Document) -> bool:
    """An erased member of role 0 (the general public) has no name, whatever the document still holds."""
    role = doc.get("role")
    under_contract = isinstance(role, int) and role in set(Role) and Role(role).under_contract
    return doc.get("status") == "erased" and not under_contract


def _member_name(path: str) -> Read:
    plain = text(path)
    # A member who restricted processing (GDPR article 18) is counted, never named, until it is lifted.
    return Read((*plain.paths, "restriction"),
                lambda doc, context: None if _names_erased(doc) or doc.get("restriction") else plain(doc, context))


def _birth_year(doc: Document, context: Context) -> int | None:
    year = integer("birthYear")(doc, context)
    if year is not None:
        return year
    birth_date = text("birthDate")(doc, context)
    return int(birth_date[:4]) if birth_date and birth_date[:4].isdigit() else None


def _coarse(axis: str) -> Read:
    """A coordinate rounded to 0.1 degree (about 11 km): a geocode no finer than the city."""
    path = f"location.{axis}"

    def read(doc: Document, _: Context) -> float | None:
        value = at(doc, path)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return round(float(value), 1)

    return Read((path,), read)


MEMBER_COLUMNS: tuple[Column, ...] = (
    *_KEYS,
    Column("role", integer("role"), _KPI),
    Column("status", text("status"), _KPI),
    Column("createdAt", day("createdAt"), "creation date (date only): kept on erasure"),
    Column("lastActivityAt", day("lastActivityAt"), "last activity (date only): activity KPIs"),
    Column("firstName", _member_name("firstName"), "Members only: Member KPIs (null once erased for role 0)"),
    Column("lastName", _member_name("lastName"), "Members only: Member KPIs (null once erased for role 0)"),
    Column("alias", _member_name("alias"), "Members only: Member KPIs (null once erased for role 0)"),
    Column("city", text("address.city"), "city: allowed, kept on erasure"),
    Column("postalCode", text("address.postalCode"), "postal code: allowed, kept on erasure"),
    Column("country", text("address.country"), "country code: not a complete address"),
    Column("lat", _coarse("lat"), "geocode rounded to 0.1 degree: no finer than the city"),
    Column("lon", _coarse("lon"), "geocode rounded to 0.1 degree: no finer than the city"),
    Column("homeShopId", text("homeShopId"), "the brand's shop reference: KPIs per shop"),
    Column("preferredLanguage", text("preferredLanguage"), _KPI),
    Column("birthYear", Read(("birthYear", "birthDate"), _birth_year), "year only: day and month are never exported"),
    Column("popsellTermsAccepted", present("popsellTerms"), "consent state as a boolean"),
    Column("optInNewsletters", flag("communication.newsletters", True), "consent state as a boolean"),
    Column("optInEventNotifications", flag("communication.eventNotifications", True), "consent state as a boolean"),
    Column("optInChallengeNotifications", flag("communication.challengeNotifications", True),
           "consent state as a boolean"),
    Column("optInCommentNotifications", flag("communication.commentNotifications", True),
           "consent state as a boolean"),
    Column("hideEventsInLiveStream", flag("visibility.hideEventsInLiveStream", False), "opt-out as a boolean"),
    Column("hideFromCommunity", flag("visibility.hideFromCommunity", False), "opt-out as a boolean"),
)

MEMBER_WITHHELD = {
    "email": "never exported (the guide)",
    "emailHash": _HASH,
    "emailVerifiedAt": "when a person verified an address: no report needs it",
    "passwordHash": "a secret",
    "customerId": "the brand's identifier of the person",
    "customerIdHash": _HASH,
    "socialIds": "identifiers of the person at social networks",
    "socialIdHashes": _HASH,
    "ssoSubject": "the brand's identifier of the person",
    "ssoSubjectHash": _HASH,
    "address.street": "part of a complete postal address: never exported (the guide)",
    "birthDate": "day and month of birth: only the year leaves (birthYear)",
    "popsellTerms": "the acceptance record: only whether it exists leaves (popsellTermsAccepted)",
    "location": "the exact point: only the rounded geocode leaves (lat, lon)",
    "photoBlob": "a photo of the person",
    "selfPresentation": "free text written by the person",
    "position": "the person's job: not among what the guide exports",
    "ownedProducts": "personal data generated by the member (the guide erases it with the account)",
    "recommendedProducts": "personal data generated by the member (the guide erases it with the account)",
    "availability": "live presence of a person",
    "availabilityUntil": "live presence of a person",
    "statusChangedAt": _INTERNAL,
    "erasureDueAt": _INTERNAL,
    "sessionEpoch": _INTERNAL,
    "retention": _INTERNAL,
    "directory": "a search copy of the profile (names, city, geocode cell): the columns above say what leaves",
    "restriction": "the restriction of processing (request id, since): it blanks the names, nothing more leaves",
    "notifications": "the member's push-notification opt-ins: a device preference, no report needs it",
}

# Visitors are not Members: no name of any kind, no email_tmp, no hash.
VISITOR_COLUMNS: tuple[Column, ...] = (
    *_KEYS,
    Column("role", integer("role"), _KPI),
    Column("status", text("status"), _KPI),
    Column("createdAt", day("createdAt"), "creation date (date only)"),
    Column("lastInteractionAt", day("lastInteractionAt"), "last widget interaction (date only)"),
    Column("serviceTermsAccepted", present("serviceTerms"), "consent state as a boolean"),
    Column("mergedInto", text("mergedInto"), _ID),
)

VISITOR_WITHHELD = {
    "firstName": "names are exported for Members only (the guide)",
    "emailTmp": "never exported (the guide)",
    "emailTmpHash": _HASH,
    "customerIdHash": _HASH,
    "widgetPolicy": "the widget's notice record: serviceTermsAccepted is the consent that counts",
    "serviceTerms": "the acceptance record: only whether it exists leaves (serviceTermsAccepted)",
    "restriction": "the restriction of processing (request id, since): bookkeeping, never exported",
    "retention": _INTERNAL,
}


# --- contacts ----------------------------------------------------------------------------------------


def _reference(path: str) -> Read:
    """A production id as the snapshot's own keyed reference (the same id gives the same one, this day only)."""
    def read(doc: Document, context: Context) -> str | None:
        value = at(doc, path)
        return context.reference(value) if isinstance(value, str) and value else None

    return Read((path,), read)


CONTACT_COLUMNS: tuple[Column, ...] = (
    Column("contactRef", _reference("id"), "the contact's reference in this snapshot only: its id derives from the "
                                           "email, and orders join on the reference"),
    Column("brandId", text("brandId"), _BRAND),
    Column("memberId", text("memberId"), "the member whose contact it is: KPIs per member"),
    Column("status", text("status"), "`erased` says the row is erased"),
    Column("memberOptIn", text("memberOptIn"), "opt-in state (the guide's value)"),
    Column("memberOptInAt", day("memberOptInAt"), "opt-in date (date only)"),
    Column("brandOptIn", text("brandOptIn"), "brand opt-in state (the guide's value)"),
    Column("brandOptInAt", day("brandOptInAt"), "brand opt-in date (date only)"),
    Column("brandVisible", flag("brandVisible", False), "whether the brand may see the contact in the Manager"),
    Column("emailStatus", text("emailStatus"), "deliverability KPIs (bounces, spam), never the address"),
    Column("contactType", text("contactType"), "direct-selling KPIs (hostess, customer, prospect)"),
    Column("source", text("history.createdBy"), "how the contact was collected (the guide's sources)"),
    Column("createdAt", day("history.createdAt"), "creation date (date only)"),
    Column("recordedAt", day("recordedAt"), "date the contact was recorded (date only)"),
    Column("lastActivityAt", day("lastActivityAt"), "last activity (date only): retention KPIs"),
    Column("invitationSentAt", day("invitation.sentAt"), "invitation funnel (date only)"),
    Column("invitationResentAt", day("invitation.resentAt"), "invitation funnel (date only)"),
    Column("invitationAnsweredAt", day("invitation.answeredAt"), "invitation funnel (date only)"),
    Column("publicationsSent", integer("interactions.publicationsSent"), "a count: campaign reach"),
    Column("views", integer("interactions.views"), "a count: campaign engagement"),
    Column("clicks", integer("interactions.clicks"), "a count: campaign engagement"),
    Column("city", text("address.city"), "city: allowed, kept on erasure"),
    Column("postalCode", text("address.postalCode"), "postal code: allowed, kept on erasure"),
    Column("country", text("address.country"), "country code: not a complete address"),
)

CONTACT_WITHHELD = {
    "id": "derived from the email by keyed hash: contactRef stands in its place",
    "firstName": "names are exported for Members only (the guide)",
    "lastName": "names are exported for Members only (the guide)",
    "email": "never exported (the guide)",
    "emailHash": _HASH + "; one person entered by two members is two contacts, nothing to de-duplicate",
    "customerId": "the brand's identifier of the person",
    "customerIdHash": _HASH,
    "notes": "free text written about the person",
    "tags": "free words a member attaches to a person",
    "sales": "the orders table holds them, joined on contactRef",
    "interactions.lastSentAt": "when a person was emailed: the counts say enough",
    "interactions.lastViewAt": "when a person read an email: the counts say enough",
    "interactions.lastClickAt": "when a person clicked: the counts say enough",
    "history.modifiedBy": "who edited the contact (a member or Manager user id)",
    "history.modifiedAt": _INTERNAL,
    "capture": "a form's proof of consent (text version, policy, ticks, dates): the brand's audit record, not a KPI",
    "retention": _INTERNAL,
}


# --- orders and the commission ledger ----------------------------------------------------------------


def _link_id(doc: Document, context: Context) -> str | None:
    code = at(doc, "attribution.explanation.code")
    return context.link_id(code) if isinstance(code, str) and code else None


def _days_before(doc: Document, _: Context) -> float | None:
    value = at(doc, "attribution.explanation.daysBeforeOrder")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


ORDER_LINE_COLUMNS: tuple[Column, ...] = (
    Column("sku", text("sku"), "a product of the brand: sales per product"),
    Column("category", text("category"), "a product category: sales per category"),
    Column("quantity", integer("quantity"), "units sold"),
    Column("amountMinor", integer("amountMinor"), "the line's amount, minor units"),
    Column("commissionMinor", integer("commissionMinor"), "the line's commission, minor units"),
)

ORDER_REFUND_COLUMNS: tuple[Column, ...] = (
    Column("amountMinor", integer("amountMinor"), "the refunded amount, minor units"),
    Column("day", day("at"), "refund date (date only)"),
)

ORDER_COLUMNS: tuple[Column, ...] = (
    Column("orderId", text("orderId"), "the brand's order reference: what sales reports join on"),
    Column("brandId", text("brandId"), _BRAND),
    Column("channel", text("channel"), "online, in store or phygital: sales per channel"),
    Column("status", text("status"), "placed, refunded or cancelled"),
    Column("placedAt", day("placedAt"), "order date (date only): counters count it on that day"),
    Column("currency", text("currency"), "ISO currency of every amount of the row"),
    Column("amountMinor", integer("amountMinor"), "order amount, minor units"),
    Column("refundedMinor", integer("refundedMinor"), "refunded so far, minor units"),
    Column("refunds", length("refunds"), "how many refunds: the dashboards' refund count"),
    Column("refundLines", rows("refunds", ORDER_REFUND_COLUMNS), "each refund's amount and day"),
    Column("commissionMinor", integer("commissionMinor"), "commission due now, minor units"),
    Column("fullCommissionMinor", integer("fullCommissionMinor"), "commission before refunds, minor units"),
    Column("memberId", text("attribution.memberId"), "the member the order is attributed to (null: nobody)"),
    Column("reason", text("attribution.reason"), "why: last_click, voucher, conversation, dedicated_member, vendor"),
    Column("source", text("attribution.source"), "the link's source (none without a link)"),
    Column("targetKind", text("attribution.targetKind"), "the link's target kind (none without a link)"),
    Column("linkId", Read(("attribution.explanation.code",), _link_id), "the link clicked: joins the links table"),
    Column("daysBeforeOrder", Read(("attribution.explanation.daysBeforeOrder",), _days_before),
           "days from the click or conversation to the order: conversion KPIs"),
    Column("voucherPresented", flag("voucherPresented", False), "whether a voucher was shown"),
    Column("contactRef", _reference("contactId"), "the contact the order created or matched (contacts.contactRef)"),
    Column("lines", rows("lines", ORDER_LINE_COLUMNS), "products, units, amounts and commission per line"),
    Column("createdAt", day("createdAt"), "date recorded (date only)"),
    Column("updatedAt", day("updatedAt"), "date last changed (date only)"),
)

ORDER_WITHHELD = {
    "id": "the same as orderId",
    "memberId": "the same as attribution.memberId",
    "customerKey": _HASH + " (the brand's customer id)",
    "visitorKey": _HASH + " (the site's temporary visitor id)",
    "fingerprint": _HASH + " (of the posted body, customer id included)",
    "attribution.explanation": "the facts that decided (click, conversation and other members' ids): the code "
                               "leaves as linkId, the delay as daysBeforeOrder",
    "lines[].ruleIndex": _INTERNAL,
    "refunds[].refundId": "the brand's refund reference: the amount and day say what reports need",
    "refunds[].lines": "what a refund took back, line by line: the amount says what reports need",
    "contactRefused": _INTERNAL,
    "version": _INTERNAL,
    "ledgerChange": _INTERNAL,
    "ledgerLock": _INTERNAL,
    "effects": _INTERNAL,
    "counts": _INTERNAL,
}


def _state_day(state: str) -> Read:
    """The day an entry first reached a state (approved, paid, reversed), from its history."""
    def read(doc: Document, _: Context) -> str | None:
        for step in doc.get("history") or []:
            if isinstance(step, dict) and step.get("state") == state:
                return day_of(step.get("at"))
        return None

    return Read(("history[].state", "history[].at"), read)


LEDGER_COLUMNS: tuple[Column, ...] = (
    *_KEYS,
    Column("memberId", text("memberId"), "the member the commission is owed to"),
    Column("orderId", text("orderId"), "the order it comes from (orders.orderId)"),
    Column("kind", text("kind"), "commission, adjustment or clawback: clawbacks are their own lines"),
    Column("amountMinor", integer("amountMinor"), "minor units; negative for a clawback"),
    Column("currency", text("currency"), "ISO currency"),
    Column("state", text("state"), "pending, approved, paid or reversed"),
    Column("cause", text("cause"), "order, update, refund:<refund> or cancel"),
    Column("createdAt", day("createdAt"), "date written (date only)"),
    Column("updatedAt", day("updatedAt"), "date last changed (date only)"),
    Column("approvedAt", _state_day("approved"), "approval date (date only)"),
    Column("paidAt", _state_day("paid"), "payment date (date only)"),
    Column("reversedAt", _state_day("reversed"), "reversal date (date only)"),
)

LEDGER_WITHHELD = {"history[].by": "who moved the entry (a Manager user id)"}


# --- links and tracking counters ---------------------------------------------------------------------

LINK_COLUMNS: tuple[Column, ...] = (
    *_KEYS,
    Column("memberId", text("memberId"), "the member who shares it"),
    Column("source", text("source"), "where it is shared (email, facebook, qr_code...)"),
    Column("targetKind", text("target.kind"), "profile, publication, product or url"),
    Column("productId", text("target.productId"), "the brand's product it points to"),
    Column("publicationId", text("target.publicationId"), "the publication it points to"),
    Column("status", text("status"), "active or disabled"),
    Column("disabledByBrand", present("disabledBy"), "whether the brand disabled it"),
    Column("createdAt", day("createdAt"), "creation date (date only)"),
    Column("updatedAt", day("updatedAt"), "date last changed (date only)"),
)

LINK_WITHHELD = {
    "code": "the public short code: linkId is what tables join on",
    "target.url": "a free address that may carry anything in its query string: kind and product say enough",
    "disabledBy.by": "who disabled it: disabledByBrand says enough",
    "disabledBy.userId": "a Manager user id",
    "disabledBy.at": _INTERNAL,
}

COUNTER_COLUMNS: tuple[Column, ...] = (
    Column("brandId", text("brandId"), _BRAND),
    Column("memberId", text("memberId"), "the member, or * for the brand's roll-up"),
    Column("day", text("day"), "UTC day counted"),
    Column("source", text("source"), "the link's source, none without a link, * in day totals"),
    Column("targetKind", text("targetKind"), "the link's target kind, none without a link, * in day totals"),
    *(Column(name, integer(name), "a count the dashboards show") for name in COUNT_FIELDS),
    *(Column(name, money(name), "an amount per currency the dashboards show") for name in MONEY_FIELDS),
)

COUNTER_WITHHELD = {
    "id": "made of memberId, day, source and targetKind",
    "pk": _INTERNAL,
    "marks": _INTERNAL + " (changes counted once)",
}


# --- campaigns and their statistics ------------------------------------------------------------------

CAMPAIGN_COLUMNS: tuple[Column, ...] = (
    *_KEYS,
    Column("memberId", text("memberId"), "the member who sent it"),
    Column("createdAt", day("createdAt"), "send date (date only)"),
    Column("status", text("status"), "sending or sent"),
    Column("selected", integer("selected"), "contacts selected"),
    Column("sent", integer("sent"), "emails sent"),
    Column("skipped", tally("skipped"), "contacts skipped, per reason code"),
    Column("templateId", text("templateId"), "the brand template used, if any"),
    Column("templateVersion", integer("templateVersion"), "its version"),
)

CAMPAIGN_WITHHELD = {
    "title": "text a member wrote: it may name people",
    "link": "a free address that may carry anything in its query string",
}

_STAT_COUNTERS = tuple(Column(name, integer(name), "a campaign counter the dashboards show") for name in COUNTERS)

CAMPAIGN_STATS_COLUMNS: tuple[Column, ...] = (
    Column("campaignId", text("campaignId"), "the campaign (campaigns.id)"),
    Column("brandId", text("brandId"), _BRAND),
    Column("memberId", text("statsMemberId"), "the member who sent it"),
    Column("sentOn", text("sentOn"), "UTC day it was sent"),
    *_STAT_COUNTERS,
)

CAMPAIGN_MEMBER_DAY_COLUMNS: tuple[Column, ...] = (
    Column("memberId", text("memberId"), "the member"),
    Column("brandId", text("brandId"), _BRAND),
    Column("day", text("createdAt"), "UTC day the campaigns were sent"),
    *_STAT_COUNTERS,
)

_STATS_WITHHELD = {"id": "made of the columns", "kind": "the file says it"}


DATASETS: tuple[Dataset, ...] = (
    Dataset("members", "members", MEMBER_COLUMNS, MEMBER_WITHHELD),
    Dataset("visitors", "visitors", VISITOR_COLUMNS, VISITOR_WITHHELD),
    Dataset("contacts", "contacts", CONTACT_COLUMNS, CONTACT_WITHHELD),
    Dataset("orders", "orders", ORDER_COLUMNS, ORDER_WITHHELD),
    Dataset("ledger", "commissions", LEDGER_COLUMNS, LEDGER_WITHHELD),
    Dataset("links", "links", LINK_COLUMNS, LINK_WITHHELD),
    Dataset("tracking_counters", "tracking_counters", COUNTER_COLUMNS, COUNTER_WITHHELD),
    Dataset("campaigns", "campaigns", CAMPAIGN_COLUMNS, CAMPAIGN_WITHHELD, kind=None),
    Dataset("campaign_stats", "campaigns", CAMPAIGN_STATS_COLUMNS, _STATS_WITHHELD, kind=CAMPAIGN_KIND),
    Dataset("campaign_member_days", "campaigns", CAMPAIGN_MEMBER_DAY_COLUMNS, _STATS_WITHHELD,
            kind=MEMBER_DAY_KIND),
)

# Documents of an exported container that no table reads, and why.
NOT_EXPORTED_KINDS: dict[tuple[str, str], str] = {
    ("campaigns", MARK_KIND): "names one recipient per event: the counters hold the figures",
}


def columns_of(dataset: Dataset) -> list[str]:
    """The column names of a dataset's file, in order (the manifest lists them)."""
    return [column.name for column in dataset.columns]
