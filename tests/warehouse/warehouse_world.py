"""A brand's activity made through the API for the warehouse tests: rows in every table, personal values known.

Brand acme (10 % commission), members m1 (role 0) and m2 (a vendor, role 3) whose documents also hold
legacy phone fields and a street; m1 shares two links, people click them from known IP addresses, the
site reports the landings, orders follow (by reference, by visit, by a vendor, unattributed), one is
partly refunded, one cancelled, one paid then refunded (a clawback); m1 enters contacts whose notes
hold a phone number and a street, erases one, and sends a campaign the provider reports on (with the
recipients' IP addresses). The seeded personal values are listed in `SEEDED` so a test can look for them.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from popsell.registry import queue_handlers
from shared.identity import repository
from shared.identity.models import Address, Member, Role
from shared.integrations.signing import signed_headers
from shared.messaging import worker

BRAND = "acme"
SITE = "https://shop.acme.com"
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
WEBHOOK_SECRET = "warehouse-webhook-secret"  # noqa: S105 - a test value
PHONE, MOBILE = "+33 6 12 34 56 78", "06 98 76 54 32"
STREET = "12 rue des Lilas"
CLICK_IPS = ("203.0.113.77", "198.51.100.23", "2001:db8::7")
PROVIDER_IP = "192.0.2.44"
CUSTOMER_ID = "CUST-778899"

# Personal values the world stores somewhere in production: none may reach the warehouse.
SEEDED = (
    "m1@acme.example", "m2@acme.example", "zoe@example.com", "max@example.com", "eve@example.com",
    "yan@example.com", "buyer@example.net", PHONE, MOBILE, STREET, "Lilas", *CLICK_IPS, PROVIDER_IP, CUSTOMER_ID,
    "tmp-visitor-7f3a", "Zoe", "Lopez", "Buyer", "Yan", "call her", "Spring news",
)


@dataclass
class Activity:
    """The ids the tests read back: links, contacts, orders, the campaign, and the first and last day of activity."""

    client: Any
    container: Any
    key: Any
    manager_token: Any  # the tests' fixture: a stored Manager user's headers
    ids: dict[str, str]
    first_day: str
    last_day: str

    def manager(self, level: str = "viewer") -> dict[str, str]:
        return self.manager_token(level, BRAND)

    def member(self, member_id: str) -> dict[str, str]:
        role = Role.AMBASSADOR if member_id == "m1" else Role.VENDOR
        token = self.container.tokens.issue(subject=member_id, audience="app", brand_id=BRAND, role=int(role),
                                            now=self.container.clock.now(), ttl=timedelta(days=30))
        return {"Authorization": f"Bearer {token}"}

    def signed(self, method: str, path: str, body: Any = None) -> Any:
        """A call of the brand platform, signed a second after the previous one (signatures are single-use)."""
        self.container.clock.advance(timedelta(seconds=1))
        raw = b"" if body is None else json.dumps(body).encode()
        headers = signed_headers(kid=self.key["kid"], secret=self.key["secret"], method=method, path=path, body=raw,
                                 now=self.container.clock.now()) | {"Content-Type": "application/json"}
        return ok(self.client.request(method, path, content=raw, headers=headers))

    def drain(self) -> None:
        """Run every queue's handler until the queues are empty, as the queue functions would."""
        handlers = queue_handlers(self.container)
        while sum(worker.process_once(self.container.bus, queue, handler) for queue, handler in handlers.items()):
            pass


def ok(response, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200, 201, 202, 204)), f"{response.request.url}: {response.text}"
    return response.json() if response.content else None


def _members(container) -> None:
    store = container.store.for_brand(BRAND)
    for member_id, role in (("m1", Role.AMBASSADOR), ("m2", Role.VENDOR)):
        member = Member(id=member_id, role=role, status="active", created_at=container.clock.now(),
                        first_name="Ana" if member_id == "m1" else "Ben", last_name="Lopes", alias=member_id,
                        email=f"{member_id}@acme.example",
                        email_hash=container.hasher(BRAND)("email", f"{member_id}@acme.example"),
                        address=Address(street=STREET, city="Lyon", postal_code="69001", country="FR"))
        doc = repository.to_document(member)
        # Fields no model declares (a legacy import): the allow-list keeps them out too.
        doc.update(phone=PHONE, mobilePhone=MOBILE)
        store.create(repository.MEMBERS, doc)


def _click(activity: Activity, code: str, ip: str) -> str:
    """A person clicks a share link from `ip`; the signed reference the shop receives."""
    answer = activity.client.get(f"/t/{code}", headers={"User-Agent": BROWSER, "X-Forwarded-For": ip},
                                 follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return parse_qs(urlsplit(answer.headers["location"]).query)["popsell_ref"][0]


def _order(activity: Activity, order_id: str, **fields: Any) -> dict:
    placed = (activity.container.clock.now() + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"orderId": order_id, "channel": "online", "placedAt": placed, "currency": "EUR", "amountMinor": 20000,
            "lines": [{"sku": "S1", "category": "shoes", "quantity": 2, "amountMinor": 20000}], **fields}
    return activity.signed("POST", f"/api/v1/integrations/{BRAND}/orders", body)


def _webhook(activity: Activity, events: list[dict]) -> None:
    auth = "Basic " + base64.b64encode(f"mailjet:{WEBHOOK_SECRET}".encode()).decode()
    ok(activity.client.post("/api/v1/webhooks/mailjet", headers={"Authorization": auth}, json=events))


def build(client, container, manager_token) -> Activity:
    """The activity of brand acme over two days, through the API and the queue handlers."""
    brand = ok(client.post("/api/v1/manager/brands", headers=manager_token("operator"), json={
        "id": BRAND, "name": "Acme", "pro": 2, "manualContactEntry": True, "brandOptIn": True,
        "allowedDomains": ["acme.com"], "homeUrl": "https://www.acme.com", "widgetAllowedOrigins": [SITE],
        "commissionRules": [{"kind": "percentage", "ratePercent": 10}]}))
    _members(container)
    activity = Activity(client=client, container=container, key=brand["integrationKey"],
                        manager_token=manager_token, ids={},
                        first_day=container.clock.now().date().isoformat(), last_day="")
    m1, app = activity.member("m1"), f"/api/v1/app/{BRAND}"

    product = ok(client.post(f"{app}/links", headers=m1, json={
        "source": "whatsapp",
        "target": {"kind": "product", "url": "https://www.acme.com/p/42?ref=ana", "productId": "p-42"}}))
    news = ok(client.post(f"{app}/links", headers=m1, json={
        "source": "email", "target": {"kind": "url", "url": "https://www.acme.com/news"}}))
    activity.ids |= {"product_link": product["id"], "news_link": news["id"]}

    refs = [_click(activity, product["code"], ip) for ip in CLICK_IPS]
    _click(activity, news["code"], CLICK_IPS[0])
    ok(client.post(f"/api/v1/widget/{BRAND}/events", headers={"Origin": SITE, "X-Forwarded-For": CLICK_IPS[1]},
                   json={"type": "page_view", "reference": refs[1], "visitorId": "tmp-visitor-7f3a", "path": "/p/42"}))
    ok(client.post(f"/api/v1/widget/{BRAND}/events", headers={"Origin": SITE},
                   json={"type": "product_pick", "reference": refs[0], "productId": "p-42"}))
    activity.drain()

    # Orders: by reference with a customer (a contact is made), by visit, by a vendor, and one nobody earns.
    first = _order(activity, "o-ref", attributionRef=refs[0], customerKey=CUSTOMER_ID, brandOptIn=True,
                   customer={"firstName": "Buyer", "lastName": "Lopez", "email": "buyer@example.net",
                             "customerId": CUSTOMER_ID})
    activity.ids["order_contact"] = first["contactId"]
    _order(activity, "o-visit", visitorId="tmp-visitor-7f3a")
    _order(activity, "o-vendor", channel="phygital", amountMinor=30000, vendor={"memberId": "m2"},
           lines=[{"sku": "S2", "category": "bags", "quantity": 1, "amountMinor": 10000},
                  {"sku": "S3", "quantity": 4, "amountMinor": 20000}])
    _order(activity, "o-none", amountMinor=5000, lines=[{"sku": "S9", "quantity": 1, "amountMinor": 5000}])
    orders = f"/api/v1/integrations/{BRAND}/orders"
    activity.signed("POST", f"{orders}/o-ref/refunds", {"refundId": "rf-1", "amountMinor": 5000})
    activity.signed("POST", f"{orders}/o-visit/cancel")
    # m2's commission is approved and paid, then the order is refunded in full: a clawback line.
    manager, entries = f"/api/v1/manager/brands/{BRAND}/commissions", {"entryIds": ["o-vendor:commission"]}
    ok(client.post(f"{manager}/approve", headers=activity.manager("editor"), json=entries))
    ok(client.post(f"{manager}/mark-paid", headers=activity.manager("admin"), json=entries))

    # Contacts: entered by hand (notes with a phone and a street), synced with opt-in, one erased.
    zoe = ok(client.post(f"{app}/contacts", headers=m1, json={
        "firstName": "Zoe", "lastName": "Lopez", "email": "zoe@example.com", "tags": ["vip"],
        "notes": f"call her on {PHONE}, {STREET}",
        "address": {"city": "Lyon", "postalCode": "69002", "country": "FR"}}))
    gone = ok(client.post(f"{app}/contacts", headers=m1, json={"firstName": "Max", "email": "max@example.com",
                                                                "notes": f"{MOBILE}"}))
    ok(client.delete(f"{app}/contacts/{gone['id']}", headers=m1))
    activity.ids |= {"manual_contact": zoe["id"], "erased_contact": gone["id"]}
    recipients = []
    for name in ("eve", "yan"):
        synced = activity.signed("PUT", f"/api/v1/integrations/{BRAND}/contacts/ext-{name}", {
            "memberId": "m1", "firstName": name.title(), "email": f"{name}@example.com", "optIn": True,
            "tags": ["vip"], "address": {"city": "Paris", "postalCode": "75011"}})
        recipients.append(synced["contactId"])

    # Day two: the campaign, the provider's events, one more click and the clawback.
    container.clock.advance(timedelta(days=1))
    campaign = ok(client.post(f"{app}/campaigns", headers=m1, json={
        "id": "cp-spring", "title": "Spring news", "text": "New pieces", "link": "https://www.acme.com/spring",
        "tags": ["vip"]}))
    activity.ids["campaign"] = campaign["id"]
    activity.drain()
    eve, yan = recipients
    events = [("sent", "eve", eve), ("sent", "yan", yan), ("open", "eve", eve), ("click", "eve", eve)]
    _webhook(activity, [
        {"event": kind, "time": int(container.clock.now().timestamp()), "MessageID": index,
         "email": f"{name}@example.com", "CustomID": f"campaign:cp-spring:{contact_id}", "ip": PROVIDER_IP,
         "agent": BROWSER,
         "Payload": json.dumps({"brandId": BRAND, "contactId": contact_id, "campaignId": "cp-spring"})}
        for index, (kind, name, contact_id) in enumerate(events, start=1)])
    activity.drain()
    _click(activity, news["code"], CLICK_IPS[2])
    activity.drain()
    activity.signed("POST", f"{orders}/o-vendor/refunds", {"refundId": "rf-2", "amountMinor": 30000})
    activity.last_day = container.clock.now().date().isoformat()
    return activity
