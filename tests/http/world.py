"""Two brands made real through the API, with a caller of every kind and a resource behind every path parameter.

Each brand (acme, globex) has a member of every role (0-6), a visitor, Manager users of each level
and a signing key; the platform has an operator. The brand's *owner* member (role 0) owns one of
everything a path can name: a contact, a share link, a campaign, a GDPR request, a commission
entry, a profile photo, a store voucher (for its synced, opted-in contact); the brand has an email
template, an order, a synced contact, a dedicated member, an SSO member; the visitor has a GDPR
request of its own, and so has the owner's contact (through its rights session). So a 404 on a
real id proves a refusal (another member's, another brand's), never a placeholder that did not exist.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from popsell.registry import queue_handlers
from shared.conversations import hot_list
from shared.crm import unsubscribe
from shared.identity import repository
from shared.identity.models import MEMBER_ROLES, ExternalUser, ManagerUser, Member, Role, TermsAcceptance
from shared.integrations.signing import signed_headers
from shared.store_schema import PLATFORM_SCOPE
from shared.tracking import site_events
from shared.tracking.events import VisitorBrowsed

BRANDS = ("acme", "globex")
OWNER_ROLE = 0
LEVELS = ("viewer", "editor", "admin")
WEBHOOK_SECRET = "world-webhook-secret"  # noqa: S105 - a test value


def member_id(brand: str, role: int) -> str:
    return f"m-{brand}-{role}"


def contact_email(brand: str) -> str:
    """The address of the owner member's contact (the rights page's person)."""
    return f"zoe@{brand}.example"


def png() -> bytes:
    """The smallest valid PNG (1x1), for the profile photo."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
            + chunk(b"IEND", b""))


@dataclass
class BrandWorld:
    """One brand: its key, and the ids its paths can name (per audience where they differ)."""

    brand: str
    kid: str
    secret: str
    ids: dict[str, str] = field(default_factory=dict)  # path parameter -> an id owned by the owner member
    widget_ids: dict[str, str] = field(default_factory=dict)  # the visitor's own (request_id)
    contact_ids: dict[str, str] = field(default_factory=dict)  # the owner's contact's own (request_id)
    manager_ids: dict[str, str] = field(default_factory=dict)  # what the brand may see (contact_id)

    def ids_for(self, path: str) -> dict[str, str]:
        """The ids a route's path names: the visitor's on widget routes, the contact's on the rights page, the
        brand's view on Manager ones."""
        if path.startswith("/api/v1/widget/"):
            return {**self.ids, **self.widget_ids}
        if path.startswith("/api/v1/contacts/"):
            return {**self.ids, **self.contact_ids}
        if path.startswith("/api/v1/manager/"):
            return {**self.ids, **self.manager_ids}
        return dict(self.ids)


@dataclass
class World:
    container: Any
    brands: dict[str, BrandWorld]

    def now(self) -> datetime:
        return self.container.clock.now()

    def token(self, audience: str, subject: str, brand: str | None, **claims: Any) -> dict[str, str]:
        token = self.container.tokens.issue(subject=subject, audience=audience, brand_id=brand, now=self.now(),
                                            ttl=timedelta(days=3650), **claims)
        return {"Authorization": f"Bearer {token}"}

    def member(self, brand: str, role: int) -> dict[str, str]:
        return self.token("app", member_id(brand, role), brand, role=role)

    def visitor(self, brand: str) -> dict[str, str]:
        return self.token("widget", f"v-{brand}", brand, role=int(Role.TEMPORARY_ACCOUNT))

    def contact(self, brand: str) -> dict[str, str]:
        """A rights session of the owner member's contact (subject: the keyed hash of the contact's address)."""
        return self.token("contact", self.container.hasher(brand)("email", contact_email(brand)), brand)

    def manager(self, brand: str, level: str) -> dict[str, str]:
        return self.token("manager", f"mu-{brand}-{level}", brand, level=level)

    def operator(self) -> dict[str, str]:
        return self.token("manager", "mu-operator", None, level="operator")

    def webhook(self) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"mailjet:{WEBHOOK_SECRET}".encode()).decode()}

    def signed(self, brand: str, method: str, path: str, body: bytes) -> dict[str, str]:
        """The platform's signature of one request, a second after the previous one (signatures are single-use)."""
        self.container.clock.advance(timedelta(seconds=1))
        key = self.brands[brand]
        return signed_headers(kid=key.kid, secret=key.secret, method=method, path=path, body=body, now=self.now())


def _ok(response, *statuses: int) -> dict:
    assert response.status_code in (statuses or (200, 201)), f"{response.request.url}: {response.text}"
    return response.json() if response.content else {}


def _people(container, brand: str) -> None:
    now = container.clock.now()
    store = container.store.for_brand(brand)
    for role in MEMBER_ROLES:
        email = f"{member_id(brand, int(role))}@example.com"
        repository.save(store=store, container=repository.MEMBERS, model=Member(
            id=member_id(brand, int(role)), role=role, status="active", created_at=now, first_name="World",
            last_name=f"Role{int(role)}", email=email, email_hash=container.hasher(brand)("email", email)),
            etag=None)
    repository.save(store=store, container=repository.VISITORS, model=ExternalUser(
        id=f"v-{brand}", role=Role.TEMPORARY_ACCOUNT, created_at=now,
        widget_policy=TermsAcceptance(version="1", accepted_at=now),
        service_terms=TermsAcceptance(version="1", accepted_at=now)), etag=None)
    for level in LEVELS:
        email = f"{level}@{brand}.example"
        repository.save(store=store, container=repository.MANAGER_USERS, model=ManagerUser(
            id=f"mu-{brand}-{level}", level=level, status="active", email=email,
            email_hash=container.hasher(brand)("email", email), created_at=now), etag=None)


def _signed_call(client, world: World, brand: str, method: str, path: str, body: Any) -> dict:
    raw = json.dumps(body).encode()
    headers = world.signed(brand, method, path, raw) | {"Content-Type": "application/json"}
    return _ok(client.request(method, path, content=raw, headers=headers))


def _resources(client, world: World, brand: str) -> None:
    """One of everything, owned by the brand's owner member (role 0) or by the brand."""
    known = world.brands[brand]
    owner = world.member(brand, OWNER_ROLE)
    app, manager, integrations = f"/api/v1/app/{brand}", f"/api/v1/manager/brands/{brand}", \
        f"/api/v1/integrations/{brand}"
    contact = _ok(client.post(f"{app}/contacts", headers=owner, json={
        "firstName": "Zoe", "email": contact_email(brand), "tags": ["world"]}))
    known.ids["contact_id"] = contact["id"]
    contact_request = _ok(client.post(f"/api/v1/contacts/{brand}/rights/requests", headers=world.contact(brand),
                                      json={"kind": "access"}))
    known.contact_ids["request_id"] = contact_request["id"]
    link = _ok(client.post(f"{app}/links", headers=owner, json={  # a QR source: its QR images exist too
        "source": "qr_code", "target": {"kind": "url", "url": f"https://www.{brand}.com/p/1"}}))
    known.ids["link_id"], known.ids["code"] = link["id"], link["code"]
    campaign = _ok(client.post(f"{app}/campaigns", headers=owner, json={
        "title": "News", "text": "Our news", "link": f"https://www.{brand}.com/news", "tags": ["world"]}))
    known.ids["campaign_id"] = campaign["id"]
    request = _ok(client.post(f"{app}/gdpr/requests", headers=owner, json={"kind": "access"}))
    known.ids["request_id"] = request["id"]
    visitor_request = _ok(client.post(f"/api/v1/widget/{brand}/gdpr/requests", headers=world.visitor(brand),
                                      json={"kind": "access"}))
    known.widget_ids["request_id"] = visitor_request["id"]
    template = _ok(client.post(f"{manager}/email-templates", headers=world.manager(brand, "editor"), json={
        "name": "Welcome", "title": "Hello", "text": "Welcome", "link": f"https://www.{brand}.com/",
        "status": "published"}))
    known.ids["template_id"] = template["id"]
    placed = world.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    order = _signed_call(client, world, brand, "POST", f"{integrations}/orders", {
        "orderId": f"order-{brand}", "channel": "phygital", "placedAt": placed, "currency": "EUR",
        "amountMinor": 10000, "lines": [{"sku": "S1", "quantity": 1, "amountMinor": 10000}],
        "vendor": {"memberId": member_id(brand, OWNER_ROLE)}})
    known.ids["order_id"] = order["orderId"]
    entries = _ok(client.get(f"{app}/commissions", headers=owner))
    known.ids["entry_id"] = entries["items"][0]["id"]
    known.ids["external_id"] = f"ext-{brand}"
    synced = _signed_call(client, world, brand, "PUT", f"{integrations}/contacts/ext-{brand}", {
        "memberId": member_id(brand, OWNER_ROLE), "firstName": "Yan", "email": f"yan@{brand}.example",
        "optIn": True})
    known.manager_ids["contact_id"] = synced["contactId"]  # a contact with a brand opt-in: the brand sees it
    # The synced contact is opted in with the owner: it holds the owner's store voucher (emailed to it).
    voucher = _ok(client.post(f"{app}/contacts/{synced['contactId']}/vouchers", headers=owner), 201)
    known.ids["voucher_id"] = voucher["id"]
    known.ids["customer_id"] = f"cust-{brand}"
    _signed_call(client, world, brand, "PUT", f"{integrations}/customers/cust-{brand}/dedicated-member",
                 {"memberId": member_id(brand, OWNER_ROLE)})
    catalog = f"{integrations}/catalog"
    _signed_call(client, world, brand, "POST", f"{catalog}/categories/batch", {"categories": [
        {"id": f"cat-{brand}", "name": "Bags"}, {"id": f"leaf-{brand}", "name": "Totes", "parentId": f"cat-{brand}"}]})
    known.ids["category_id"] = f"leaf-{brand}"  # a category without children: it can be deleted
    _signed_call(client, world, brand, "PUT", f"{catalog}/products/prod-{brand}", {
        "id": f"prod-{brand}", "title": "Tote", "link": f"https://www.{brand}.com/p/tote", "availability": "in_stock",
        "price": {"amountMinor": 4900, "currency": "EUR"}, "categoryIds": [f"leaf-{brand}"]})
    known.ids["product_id"] = f"prod-{brand}"
    _signed_call(client, world, brand, "PUT", f"{integrations}/stores/store-{brand}", {
        "id": f"store-{brand}", "name": "Flagship", "city": "Lyon"})
    known.ids["store_id"] = f"store-{brand}"
    known.ids["run_id"] = _signed_call(client, world, brand, "POST", f"{catalog}/sync-runs", None)["runId"]
    upload = json.dumps({"id": f"prod-{brand}", "title": "Tote", "link": f"https://www.{brand}.com/p/tote",
                         "availability": "in_stock", "price": {"amountMinor": 4900, "currency": "EUR"}}).encode()
    signed = world.signed(brand, "POST", f"{catalog}/uploads", upload) | {"Content-Type": "application/x-ndjson"}
    known.ids["upload_id"] = _ok(client.post(f"{catalog}/uploads", content=upload, headers=signed), 202)["uploadId"]
    known.ids["sso_subject"] = f"sso-{brand}"
    _signed_call(client, world, brand, "POST", f"{integrations}/sso/members", {
        "ssoSubject": f"sso-{brand}", "email": f"sso@{brand}.example", "firstName": "Sam", "lastName": "Sso", "role": 4,
        "termsAcceptedAt": "2029-12-31T10:00:00Z", "termsVersion": "2029-06"})
    known.ids["token"] = unsubscribe.make_token(world.container.settings, brand_id=brand, contact_id=contact["id"],
                                                member_id=member_id(brand, OWNER_ROLE))
    photo = _ok(client.put(f"{app}/me/photo", headers={**owner, "Content-Type": "image/png"}, content=png()))
    photo_path = urlsplit(photo["photoUrl"]).path
    known.ids["container"], known.ids["name"] = re.match(r"^/api/v1/files/([^/]+)/(.+)$", photo_path).groups()
    known.ids["photo_query"] = urlsplit(photo["photoUrl"]).query
    from tests.notifications.helpers import subscription  # the owner's device (push notifications)

    device = _ok(client.post(f"{app}/me/push-subscriptions", headers=owner,
                             json=subscription(f"https://push.example.com/wpush/{brand}")), 201)
    known.ids["subscription_id"] = device["id"]
    # The visitor's waiting-list request, picked up by the owner member (who must be available for it).
    waiting = _ok(client.post(f"/api/v1/widget/{brand}/conversations/requests", headers=world.visitor(brand),
                              json={}), 201)
    known.widget_ids["waiting_request_id"] = known.ids["waiting_request_id"] = waiting["id"]
    members_store = world.container.store.for_brand(brand)
    owner_doc = members_store.get(repository.MEMBERS, member_id(brand, OWNER_ROLE))
    members_store.replace(repository.MEMBERS, {**owner_doc, "availability": "online"})
    picked = _ok(client.post(f"{app}/waiting-list/{waiting['id']}/pick-up", headers=owner))
    members_store.replace(repository.MEMBERS, {**members_store.get(repository.MEMBERS, owner_doc["id"]),
                                               "availability": "offline"})
    known.ids["conversation_id"] = picked["conversationId"]
    said = _ok(client.post(f"{app}/conversations/{picked['conversationId']}/messages", headers=owner,
                           json={"clientMessageId": "world-0001", "text": "Hello"}), 201)
    known.ids["chat_message_id"] = said["id"]
    # A photo each of the owner member and the visitor (conversation uploads are their owner's alone).
    known.ids["media_id"] = _ok(client.post(f"{app}/conversations/media", content=png(),
                                            headers={**owner, "Content-Type": "image/png"}), 201)["mediaId"]
    known.widget_ids["media_id"] = _ok(client.post(f"/api/v1/widget/{brand}/conversations/media", content=png(),
                                                   headers={**world.visitor(brand), "Content-Type": "image/png"}),
                                       201)["mediaId"]
    # A visitor on the site (the hot list), and an invitation id for the widget's bubble routes.
    key = site_events.visitor_key(world.container.hasher(brand), customer_id=None, visitor_id=f"world-tag-{brand}")
    hot_list.record(store=members_store, event=VisitorBrowsed(id=f"world-browsed-{brand}", brand_id=brand,
                                                              occurred_at=world.container.clock.now(),
                                                              visitor_key=key, path="/"))
    known.ids["hot_visitor_id"] = hot_list.hot_id(key)
    known.ids["hook_id"] = f"world-hook-{brand}"
    # A customer the brand dedicated to the owner member (never in the widget: not reachable in the chat).
    known.ids["customer_ref"] = dedicated_member = hashlib.sha256(f"customer-{brand}".encode()).hexdigest()[:40]
    members_store.upsert("dedicated_members", {"id": dedicated_member, "memberId": member_id(brand, OWNER_ROLE),
                                               "source": "brand", "assignedAt": "2030-01-01T00:00:00Z"})
    known.ids["member_id"] = member_id(brand, OWNER_ROLE)
    known.ids["user_id"] = f"mu-{brand}-viewer"
    known.ids["kid"] = known.kid


def build(client, container) -> World:
    """Both brands, their people and their resources, made through the API (and the store for people)."""
    world = World(container=container, brands={})
    platform = container.store.for_brand(PLATFORM_SCOPE)
    repository.save(store=platform, container=repository.MANAGER_USERS, model=ManagerUser(
        id="mu-operator", level="operator", status="active", email="operator@popsell.example",
        email_hash=container.hasher(PLATFORM_SCOPE)("email", "operator@popsell.example"),
        created_at=container.clock.now()), etag=None)
    for brand in BRANDS:
        created = _ok(client.post("/api/v1/manager/brands", headers=world.operator(), json={
            "id": brand, "name": brand.title(), "pro": 2, "manualContactEntry": True, "brandOptIn": True,
            "allowedDomains": [f"{brand}.com"], "homeUrl": f"https://www.{brand}.com",
            "widgetAllowedOrigins": [f"https://shop.{brand}.com"],
            "commissionRules": [{"kind": "percentage", "ratePercent": 10}]}), 201)
        key = created["integrationKey"]
        world.brands[brand] = BrandWorld(brand=brand, kid=key["kid"], secret=key["secret"])
        _people(container, brand)
        _resources(client, world, brand)
    _emails_sent(container, world)
    return world


def _emails_sent(container, world: World) -> None:
    """Send what the build queued (the outbox then holds a real message id for the dev route)."""
    from shared.messaging import worker
    from shared.ports.bus import QUEUE_EMAILS

    handler = queue_handlers(container)[QUEUE_EMAILS]
    while worker.process_once(container.bus, QUEUE_EMAILS, handler):
        pass
    sent = container.mailer.list(limit=1)
    assert sent, "the build sent no email"
    for known in world.brands.values():
        known.ids["message_id"] = sent[0]["messageId"]


# --- the world once per test session, copied for each test -----------------------------------------

def settings_for(data_dir):  # noqa: ANN001, ANN201 - a path; the app's settings
    """The settings of a world's app: local dev mode on its own data folder, clicks sent at once."""
    from shared.config import Settings

    return Settings(env="local", data_dir=data_dir, demo_brand=False, redirect_flush_ms=0,
                    mailjet_webhook_secret=WEBHOOK_SECRET)


def make_template(data_dir) -> tuple[dict[str, BrandWorld], datetime]:  # noqa: ANN001 - a path
    """Build the world into `data_dir` (then closed); returns its brands and the clock's time after the build."""
    from fastapi.testclient import TestClient

    from functions.http_api.app import create_app
    from popsell.bootstrap import build_container, set_container
    from shared.clock import SettableClock
    from tests.conftest import T0

    settings = settings_for(data_dir)
    container = build_container(settings, clock=SettableClock(T0))
    set_container(container)
    try:
        with TestClient(create_app(settings)) as client:
            built = build(client, container)
        return built.brands, container.clock.now()
    finally:
        set_container(None)
