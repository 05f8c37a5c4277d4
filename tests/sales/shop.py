"""A brand platform posting orders, with links clicked and visits recorded the way the tracking side writes them."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.ports.store import Filter
from shared.store_schema import PLATFORM_SCOPE
from shared.tracking import counters, link_codes, reference, visits
from tests.integrations.brand_platform import signed_call

BRAND, OTHER = "acme", "other"
RULES = [{"kind": "percentage", "ratePercent": 10}]


class Shop:
    """Signed calls (one second apart: signatures are single-use), links, visits and the stored documents."""

    def __init__(self, client, container, keys, manager_token):
        self.client, self.container, self.keys, self.manager_token = client, container, keys, manager_token

    def call(self, method, path, brand=BRAND, body=None):
        self.container.clock.advance(timedelta(seconds=1))
        return signed_call(self.client, method, path, key=self.keys[brand], now=self.container.clock.now(), body=body)

    def order(self, brand=BRAND, **fields):
        body = {"orderId": "o-1", "channel": "online", "placedAt": self.now_text(), "currency": "EUR",
                "amountMinor": 10000, "lines": [{"sku": "S1", "quantity": 1, "amountMinor": 10000}], **fields}
        return self.call("POST", f"/api/v1/integrations/{brand}/orders", brand, body)

    def order_path(self, order_id="o-1", brand=BRAND):
        return f"/api/v1/integrations/{brand}/orders/{order_id}"

    def now(self) -> datetime:
        return self.container.clock.now()

    def now_text(self, at: datetime | None = None) -> str:
        return (at or self.now()).strftime("%Y-%m-%dT%H:%M:%SZ")

    def link(self, code="AbCd1234", member="m1", brand=BRAND, source="email", target_kind="product",
             status="active"):
        doc = link_codes.to_document(link_codes.LinkCode(
            code=code, brand=brand, link_id=f"l-{code}", member_id=member, source=source, target_kind=target_kind,
            url="https://shop.example/p/1", status=status))
        self.container.store.for_brand(PLATFORM_SCOPE).create(link_codes.CONTAINER, doc)
        return code

    def ref(self, code="AbCd1234", clicked_at=None, brand=BRAND, click_id="click0001"):
        return reference.sign(self.container.settings.hash_master_key, brand, code=code, click_id=click_id,
                              clicked_at=clicked_at or self.now())

    def visit(self, *, member="m1", at, customer_id=None, visitor_id=None, code="AbCd1234", source="facebook"):
        hasher = self.container.hasher(BRAND)
        key = hasher("customer_id", customer_id) if customer_id else hasher("visitor", visitor_id)
        visits.record(store=self.store(), visit=visits.VisitRecord(
            click_id=f"c-{code}-{int(at.timestamp())}", visitor_key=key, at=at, member_id=member, code=code,
            source=source, target_kind="url"), window_days=180)

    def store(self, brand=BRAND):
        return self.container.store.for_brand(brand)

    def counters_of(self, member_id, brand=BRAND) -> dict:
        docs = self.store(brand).query_all(counters.CONTAINER, filters=[Filter("memberId", "=", member_id)])
        return counters.totals(doc for doc in docs if doc["source"] != counters.ALL)  # details, not day totals

    def ledger(self, brand=BRAND) -> list[dict]:
        return self.store(brand).query_all("commissions")

    def manager(self, level, brand=BRAND):
        return self.manager_token(level, brand)
