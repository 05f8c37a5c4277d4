"""A brand's data mart as a warehouse loader would build it: from the snapshot's files alone, never the store.

The figures are the dashboards': tracking totals by source, target kind and day (from the counter
table), each member's orders, sales and commissions (from the orders table, not the counters), the
campaign totals by member (from the campaign day table), and the ledger by member and state.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from shared.ports.blobs import CONTAINER_WAREHOUSE
from shared.tracking.counters import ALL, BRAND_ROLLUP, COUNT_FIELDS, MONEY_FIELDS
from shared.warehouse import folders as warehouse_folders

Tables = dict[str, list[dict[str, Any]]]
CAMPAIGN_COUNTERS = ("sent", "delivered", "opened", "clicked", "bounced", "complaints", "unsubscribed")


def load(blobs, brand_id: str) -> Tables:
    """Every table of the brand's snapshot, as its manifest lists them (a file missing or short fails)."""
    folder = warehouse_folders.current_snapshot(blobs=blobs, brand_id=brand_id)
    assert folder is not None, "no complete snapshot"
    manifest = json.loads(blobs.get(CONTAINER_WAREHOUSE, folder + warehouse_folders.MANIFEST))
    tables = {}
    for name, described in manifest["files"].items():
        lines = blobs.get(CONTAINER_WAREHOUSE, folder + name).decode().splitlines()
        assert len(lines) == described["rows"], f"{name}: {len(lines)} rows, the manifest says {described['rows']}"
        tables[name.removesuffix(".jsonl")] = [json.loads(line) for line in lines]
    return tables


def _sum(rows) -> dict[str, Any]:
    sums: dict[str, Any] = {name: 0 for name in COUNT_FIELDS} | {name: {} for name in MONEY_FIELDS}
    for row in rows:
        for name in COUNT_FIELDS:
            sums[name] += row[name]
        for name in MONEY_FIELDS:
            for currency, amount in row[name].items():
                sums[name][currency] = sums[name].get(currency, 0) + amount
    return sums


def tracking_dashboard(tables: Tables, member_id: str, start: str, end: str) -> dict[str, Any]:
    """Totals, by source, by target kind and by day of a member (or "*": the brand), as the dashboard shows them."""
    rows = [row for row in tables["tracking_counters"] if row["memberId"] == member_id and start <= row["day"] <= end]
    day_totals = [row for row in rows if row["source"] == ALL]
    detail = [row for row in rows if row["source"] != ALL]
    return {
        "totals": _sum(day_totals),
        "bySource": {source: _sum(row for row in detail if row["source"] == source)
                     for source in {row["source"] for row in detail}},
        "byTargetKind": {kind: _sum(row for row in detail if row["targetKind"] == kind)
                         for kind in {row["targetKind"] for row in detail}},
        "byDay": {day: _sum(row for row in day_totals if row["day"] == day) for day in {r["day"] for r in day_totals}},
    }


def member_sales(tables: Tables, start: str, end: str) -> dict[str, dict[str, Any]]:
    """Each member's attributed orders (net of cancellations and full refunds), refunds, sales and commission."""
    figures: dict[str, dict[str, Any]] = defaultdict(lambda: {"orders": 0, "refunds": 0, "salesMinor": {},
                                                              "commissionMinor": {}})
    for order in tables["orders"]:
        if order["memberId"] is None or not start <= order["placedAt"] <= end:
            continue
        member, currency = figures[order["memberId"]], order["currency"]
        member["orders"] += order["status"] == "placed"
        member["refunds"] += order["refunds"]
        sales = 0 if order["status"] == "cancelled" else order["amountMinor"] - order["refundedMinor"]
        member["salesMinor"][currency] = member["salesMinor"].get(currency, 0) + sales
        member["commissionMinor"][currency] = member["commissionMinor"].get(currency, 0) + order["commissionMinor"]
    return dict(figures)


def member_traffic(tables: Tables, start: str, end: str) -> dict[str, dict[str, int]]:
    """Each member's clicks and visits, from their day totals."""
    traffic: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(
        ("clicks", "externalVisits", "internalVisits", "pageViews", "productPicks"), 0))
    for row in tables["tracking_counters"]:
        if row["memberId"] != BRAND_ROLLUP and row["source"] == ALL and start <= row["day"] <= end:
            for name in traffic[row["memberId"]]:
                traffic[row["memberId"]][name] += row[name]
    return dict(traffic)


def ledger_by_member(tables: Tables) -> dict[str, dict[str, dict[str, int]]]:
    """A member's commission entries summed per state and currency; clawbacks are rows of their own."""
    result: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for entry in tables["ledger"]:
        per_currency = result[entry["memberId"]][entry["state"]]
        per_currency[entry["currency"]] = per_currency.get(entry["currency"], 0) + entry["amountMinor"]
    return {member: dict(states) for member, states in result.items()}


def campaign_totals(tables: Tables, start: str, end: str) -> dict[str, Any]:
    """The brand's campaign counters and each member's over campaigns sent between two days."""
    rows = [row for row in tables["campaign_member_days"] if start <= row["day"] <= end]
    by_member: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(CAMPAIGN_COUNTERS, 0))
    for row in rows:
        for name in CAMPAIGN_COUNTERS:
            by_member[row["memberId"]][name] += row[name]
    totals = {name: sum(row[name] for row in rows) for name in CAMPAIGN_COUNTERS}
    return {"totals": totals, "byMember": dict(by_member)}
