"""The warehouse export of a brand's activity, made through the API and exported by the timer as it runs.

The snapshot holds no email, phone number, street or raw IP address, nor any production hash; a
data mart rebuilt from its files alone shows what the dashboards' API answers; erasures show, and
the next day's snapshot replaces the previous one.
"""

from __future__ import annotations

import ipaddress
import json
import re
from datetime import date

import pytest
from fastapi.testclient import TestClient

from shared.ports.blobs import CONTAINER_WAREHOUSE
from shared.tracking.counters import BRAND_ROLLUP
from shared.warehouse import export as warehouse
from shared.warehouse import folders as warehouse_folders
from tests.warehouse import warehouse_mart as mart
from tests.warehouse import warehouse_world as world
from tests.warehouse.warehouse_world import BRAND, ok

EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
# A phone number: nine digits or more, spaces and dots allowed between, not inside an id or a hash.
PHONE_RE = re.compile(r"(?<![\w])\+?\d[\d .()/-]{7,}\d(?![\w])")
STREET_RE = re.compile(r"\b\d{1,4},? ?(?:bis |ter )?(?:rue|avenue|av\.|boulevard|bd|chemin|allée|place|impasse|"
                       r"quai|street|st\.|road|rd\.|lane)\b", re.IGNORECASE)
IP_CANDIDATE_RE = re.compile(r"[0-9A-Fa-f:.]{7,45}")
HASHED_FIELDS = ("emailHash", "customerIdHash", "customerKey", "visitorKey", "fingerprint", "emailTmpHash",
                 "ssoSubjectHash")
TIMER = "/api/v1/dev/timers/warehouse_export/run"


@pytest.fixture
def settings(tmp_path):
    """Local settings behind one proxy (clicks come from known addresses), the provider's callback secret set."""
    from shared.config import Settings

    return Settings(env="local", data_dir=tmp_path / "data", demo_brand=False, redirect_flush_ms=0,
                    trusted_proxy_hops=1, mailjet_webhook_secret=world.WEBHOOK_SECRET)


@pytest.fixture
def activity(container, manager_token):
    from functions.http_api.app import create_app

    with TestClient(create_app(container.settings)) as client:
        yield world.build(client, container, manager_token)


def _run_timer(activity) -> dict:
    """The warehouse timer, run the way the local runner and the dev surface run every timer."""
    return ok(activity.client.post(TIMER))


def _all_text(container) -> str:
    blobs = container.blobs
    return "".join(blobs.get(CONTAINER_WAREHOUSE, info.name).decode() for info in blobs.list(CONTAINER_WAREHOUSE))


def _raw_ips(text: str) -> list[str]:
    found = []
    for candidate in IP_CANDIDATE_RE.findall(text):
        token = candidate.strip(".:")
        try:
            ipaddress.ip_address(token)
        except ValueError:
            continue
        found.append(token)
    return found


def _production_secrets(container) -> set[str]:
    """Every keyed hash production stores for the brand, and the contact ids derived from emails."""
    store = container.store.for_brand(BRAND)
    values: set[str] = set()
    for name in ("members", "contacts", "orders", "visitors", "blacklist", "identity_keys"):
        for doc in store.query_all(name):
            values |= {doc[field] for field in HASHED_FIELDS if isinstance(doc.get(field), str)}
            values |= {value for value in (doc.get("socialIdHashes") or {}).values()}
            if name == "contacts":
                values.add(doc["id"])
    return {value for value in values if value}


def _phones(text: str) -> list[str]:
    return [run for run in PHONE_RE.findall(text) if sum(ch.isdigit() for ch in run) >= 9]


def test_the_detectors_find_what_production_holds(activity):
    # The scan below means something only if its detectors find the world's personal data where it is.
    store = activity.container.store.for_brand(BRAND)
    production = json.dumps([store.query_all(name) for name in ("members", "contacts")])
    assert EMAIL_RE.findall(production) and STREET_RE.findall(production)
    assert {world.PHONE, world.MOBILE} <= set(_phones(production))
    assert _raw_ips(" ".join((*world.CLICK_IPS, world.PROVIDER_IP))) == [*world.CLICK_IPS, world.PROVIDER_IP]
    assert _production_secrets(activity.container)


def test_the_exported_files_carry_no_email_phone_street_raw_ip_or_hash(activity):
    report = _run_timer(activity)

    assert report["exported"] == 1 and report["failed"] == 0
    assert (report["orders"], report["ledger"], report["contacts"], report["links"]) == (4, 4, 5, 2)
    assert report["campaigns"] == 1 and report["campaign_stats"] == 1 and report["tracking_counters"] > 0
    text = _all_text(activity.container)
    assert EMAIL_RE.findall(text) == []
    assert _phones(text) == []
    assert STREET_RE.findall(text) == []
    assert _raw_ips(text) == []
    lowered = text.lower()
    assert [value for value in world.SEEDED if value.lower() in lowered] == []
    assert [value for value in _production_secrets(activity.container) if value in text] == []


def test_a_data_mart_rebuilt_from_the_files_alone_shows_the_dashboards_figures(activity):
    _run_timer(activity)
    tables = mart.load(activity.container.blobs, BRAND)
    span = f"from={activity.first_day}&to={activity.last_day}"
    manager = f"/api/v1/manager/brands/{BRAND}"
    viewer = activity.manager("viewer")

    brand = ok(activity.client.get(f"{manager}/tracking/dashboard?{span}", headers=viewer))
    rebuilt = mart.tracking_dashboard(tables, BRAND_ROLLUP, activity.first_day, activity.last_day)
    assert _counts(brand["totals"]) == rebuilt["totals"]
    assert _shown(brand["bySource"], "source") == _nonzero(rebuilt["bySource"])
    assert _shown(brand["byTargetKind"], "targetKind") == _nonzero(rebuilt["byTargetKind"])
    assert _shown(brand["byDay"], "day") == _nonzero(rebuilt["byDay"])
    assert brand["totals"]["clicks"] == 5 and brand["totals"]["productPicks"] == 1

    for member_id in ("m1", "m2"):
        answer = ok(activity.client.get(f"{manager}/tracking/dashboard/members/{member_id}?{span}", headers=viewer))
        assert _counts(answer["totals"]) == mart.tracking_dashboard(
            tables, member_id, activity.first_day, activity.last_day)["totals"]

    # Orders, sales and commissions from the orders table, clicks and visits from the counters, names from members.
    ranking = ok(activity.client.get(f"{manager}/tracking/dashboard/members?{span}&limit=100", headers=viewer))
    sales, traffic = mart.member_sales(tables, activity.first_day, activity.last_day), mart.member_traffic(
        tables, activity.first_day, activity.last_day)
    names = {row["id"]: (row["firstName"], row["lastName"]) for row in tables["members"]}
    for item in ranking["items"]:
        member_id = item["memberId"]
        rebuilt_item = sales.get(member_id, {}) | traffic.get(member_id, {})
        assert {name: item[name] for name in rebuilt_item} == rebuilt_item, member_id
        assert (item["firstName"], item["lastName"]) == names[member_id]
    assert {item["memberId"] for item in ranking["items"]} == set(traffic) | set(sales) == {"m1", "m2"}
    assert sales["m1"] == {"orders": 1, "refunds": 1, "salesMinor": {"EUR": 15000}, "commissionMinor": {"EUR": 1500}}
    assert sales["m2"]["commissionMinor"] == {"EUR": 0}

    # The ledger, entry by entry, and the clawback of a paid commission as its own line.
    listed = ok(activity.client.get(f"{manager}/commissions?pageSize=200", headers=viewer))["items"]
    assert {row["id"]: _entry(row) for row in tables["ledger"]} == {item["id"]: _entry(item) for item in listed}
    assert mart.ledger_by_member(tables)["m2"] == {"paid": {"EUR": 3000}, "pending": {"EUR": -3000}}
    # What the ledger still owes is what the dashboards count as commission.
    for member_id, states in mart.ledger_by_member(tables).items():
        owed = sum(amount for state, money in states.items() if state != "reversed" for amount in money.values())
        assert owed == sum(sales[member_id]["commissionMinor"].values())

    campaigns = ok(activity.client.get(f"{manager}/campaigns/stats?{span}", headers=viewer))
    rebuilt_campaigns = mart.campaign_totals(tables, activity.first_day, activity.last_day)
    assert {name: campaigns[name] for name in mart.CAMPAIGN_COUNTERS} == rebuilt_campaigns["totals"]
    assert {item["memberId"]: {name: item[name] for name in mart.CAMPAIGN_COUNTERS}
            for item in campaigns["byMember"]} == rebuilt_campaigns["byMember"]
    one = ok(activity.client.get(f"/api/v1/app/{BRAND}/campaigns/cp-spring/stats", headers=activity.member("m1")))
    [stats] = tables["campaign_stats"]
    assert all(one[name] == stats[name] for name in mart.CAMPAIGN_COUNTERS)
    assert (stats["campaignId"], stats["memberId"], stats["sentOn"]) == ("cp-spring", "m1", activity.last_day)


def test_orders_join_their_links_and_contacts_within_the_snapshot(activity):
    _run_timer(activity)
    tables = mart.load(activity.container.blobs, BRAND)

    orders = {row["orderId"]: row for row in tables["orders"]}
    links = {row["id"]: row for row in tables["links"]}
    by_ref = orders["o-ref"]
    assert by_ref["linkId"] == activity.ids["product_link"] and links[by_ref["linkId"]]["productId"] == "p-42"
    assert (by_ref["reason"], by_ref["source"], by_ref["targetKind"]) == ("last_click", "whatsapp", "product")
    assert by_ref["lines"] == [{"sku": "S1", "category": "shoes", "quantity": 2, "amountMinor": 20000,
                                "commissionMinor": 2000}]
    assert by_ref["refundLines"] == [{"amountMinor": 5000, "day": activity.first_day}]
    assert (orders["o-vendor"]["reason"], orders["o-vendor"]["linkId"]) == ("vendor", None)
    assert orders["o-none"]["memberId"] is None

    contacts = {row["contactRef"]: row for row in tables["contacts"]}
    buyer = contacts[by_ref["contactRef"]]
    assert (buyer["memberId"], buyer["source"], buyer["status"]) == ("m1", "order", "active")
    # The reference is not the production id (which derives from the email), and changes with the day.
    assert by_ref["contactRef"] != activity.ids["order_contact"] and activity.ids["order_contact"] not in contacts
    assert by_ref["contactRef"] == _reference(activity, activity.ids["order_contact"])


def _reference(activity, contact_id: str, day: date | None = None) -> str:
    container = activity.container
    day = day or container.clock.now().date()
    return warehouse.context(store=container.store, brand_id=BRAND, day=day,
                             hasher=container.hasher(BRAND)).reference(contact_id)


def test_erased_contacts_leave_in_their_erased_form(activity):
    _run_timer(activity)
    contacts = {row["contactRef"]: row for row in mart.load(activity.container.blobs, BRAND)["contacts"]}

    erased = contacts[_reference(activity, activity.ids["erased_contact"])]
    assert erased["status"] == "erased" and erased["memberId"] == "m1"
    manual = contacts[_reference(activity, activity.ids["manual_contact"])]
    assert (manual["status"], manual["city"], manual["postalCode"], manual["country"]) == (
        "active", "Lyon", "69002", "FR")
    assert (manual["source"], manual["memberOptIn"]) == ("manual", "new")


def test_the_next_day_snapshot_replaces_yesterdays_and_shows_the_erasures_since(activity):
    client, container = activity.client, activity.container
    _run_timer(activity)
    yesterday_folder = warehouse_folders.current_snapshot(blobs=container.blobs, brand_id=BRAND)
    yesterday_names = {info.name for info in container.blobs.list(CONTAINER_WAREHOUSE)}
    manual = activity.ids["manual_contact"]
    ok(client.delete(f"/api/v1/app/{BRAND}/contacts/{manual}", headers=activity.member("m1")))

    moved = ok(client.post("/api/v1/dev/clock/advance", json={"days": 1}))
    report = _run_timer(activity)

    names = {info.name for info in container.blobs.list(CONTAINER_WAREHOUSE)}
    folder = warehouse_folders.current_snapshot(blobs=container.blobs, brand_id=BRAND)
    assert folder != yesterday_folder and folder.startswith(f"{BRAND}/{moved['now'][:10]}/")
    assert names.isdisjoint(yesterday_names) and {name.rsplit("/", 1)[0] + "/" for name in names} == {folder}
    assert report["filesDeleted"] == len(yesterday_names)
    contacts = {row["contactRef"]: row for row in mart.load(container.blobs, BRAND)["contacts"]}
    erased = contacts[_reference(activity, manual)]
    # The erasure as production keeps it: city and postal code stay, the country goes.
    assert (erased["status"], erased["city"], erased["postalCode"], erased["country"]) == (
        "erased", "Lyon", "69002", None)
    yesterday = date.fromisoformat(moved["now"][:10]).toordinal() - 1
    assert _reference(activity, manual, date.fromordinal(yesterday)) not in contacts  # no link to yesterday's rows


def _counts(item: dict) -> dict:
    return {name: item[name] for name in (
        "clicks", "externalVisits", "internalVisits", "rejectedClicks", "pageViews", "productPicks", "orders",
        "refunds", "salesMinor", "commissionMinor")}


def _any(counts: dict) -> bool:
    return any(value for value in counts.values())


def _shown(items: list[dict], key: str) -> dict:
    """An API breakdown (every key listed, zeroes included) as {key: counts}, zero rows left out."""
    return {item[key]: _counts(item) for item in items if _any(_counts(item))}


def _nonzero(breakdown: dict) -> dict:
    return {key: counts for key, counts in breakdown.items() if _any(counts)}


def _entry(item: dict) -> tuple:
    return item["memberId"], item["orderId"], item["kind"], item["amountMinor"], item["currency"], item["state"]
