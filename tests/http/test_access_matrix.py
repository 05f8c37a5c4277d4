"""The access-control matrix: every route × every kind of caller, against a table written down on its own.

`access_matrix.md`, beside this file, says for each route what each kind of caller must get: `ok`
(past authorization: any answer but 401, 403 or 404), or the refusal itself, `401` (no valid
credentials for this surface), `403` (a level or role below the route's) or `404` (another brand's
or another member's: hidden). The table is kept by hand; nothing here reads the routes' own
`access(...)` declarations to decide what is expected.

Every path parameter names a real resource of the seeded world (tests/http/world.py): the brand
acme, and things owned by its owner member (role 0) or by the brand. So a 404 is a refusal, never a
placeholder that did not exist. The last column, `xid`, is the route's first admitted caller asking
for globex's resources through acme's path: another brand's ids must not be reachable either.
A route without a row (or a row without a route) fails the test.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.http_api.app import create_app
from functions.http_api.openapi_export import document
from tests.http import world as worlds

TABLE = Path(__file__).with_name("access_matrix.md")
# One app for every call: it reaches the composition root each copy of the world installs.
CLIENT = TestClient(create_app(worlds.settings_for(Path(tempfile.gettempdir()) / "popsell-matrix-unused")),
                    follow_redirects=False)
REFUSED = {401, 403, 404}
BRAND, OTHER = "acme", "globex"
SAFE_METHODS = {"GET", "HEAD"}
# A valid body where the resource is checked after the body (else a 422 would hide whether the caller got in).
LINES = [{"sku": "S1", "quantity": 1, "amountMinor": 10000}]
BODIES = {
    "PATCH /api/v1/app/{brand_id}/links/{link_id}": {"status": "disabled"},
    "PATCH /api/v1/manager/brands/{brand_id}/links/{link_id}": {"status": "disabled"},
    "PATCH /api/v1/manager/brands/{brand_id}/email-templates/{template_id}": {"version": 1, "name": "Renamed"},
    "PATCH /api/v1/manager/brands/{brand_id}/users/{user_id}": {"level": "editor"},
    "PUT /api/v1/manager/brands/{brand_id}/users/{user_id}/status": {"status": "disabled"},
    "POST /api/v1/manager/brands/{brand_id}/gdpr/requests/{request_id}/refuse": {"reason": "excessive"},
    "PUT /api/v1/integrations/{brand_id}/orders/{order_id}": {"amountMinor": 10000, "lines": LINES},
    "POST /api/v1/integrations/{brand_id}/orders/{order_id}/refunds": {"refundId": "r-1", "amountMinor": 100},
    "POST /api/v1/app/{brand_id}/conversations/{conversation_id}/messages": {"clientMessageId": "matrix-01",
                                                                            "text": "Hello"},
    "POST /api/v1/widget/{brand_id}/conversations/{conversation_id}/messages": {"clientMessageId": "matrix-02",
                                                                               "text": "Hello"},
    "POST /api/v1/app/{brand_id}/conversations/{conversation_id}/read": {"upTo": "~"},
    "POST /api/v1/widget/{brand_id}/conversations/{conversation_id}/read": {"upTo": "~"},
    "POST /api/v1/widget/{brand_id}/members/{member_id}/capture": {
        "form": "blog_popin", "email": "lea@example.com", "memberOptIn": True, "consentTextVersion": "1",
        "privacyPolicyUrl": "https://www.popsell.com/privacy"},
}


@dataclass(frozen=True)
class Caller:
    column: str
    kind: str  # anonymous | member | visitor | manager | operator | platform | webhook
    brand: str | None = None
    role: int | None = None
    level: str | None = None


CALLERS = (
    [Caller("anon", "anonymous")]
    + [Caller(f"m{role}", "member", BRAND, role=role) for role in range(7)]
    + [Caller("vis", "visitor", BRAND)]
    + [Caller(level, "manager", BRAND, level=level) for level in worlds.LEVELS]
    + [Caller("op", "operator"),
       Caller("xm", "member", OTHER, role=0), Caller("xv", "visitor", OTHER), Caller("xadmin", "manager", OTHER,
                                                                                       level="admin"),
       Caller("sig", "platform", BRAND), Caller("xsig", "platform", OTHER), Caller("hook", "webhook")]
)
COLUMNS = [caller.column for caller in CALLERS] + ["xid"]


def read_table() -> dict[str, dict[str, str]]:
    """The table: "METHOD path" -> column -> expected ("ok", "401", "403", "404", or "·" for not applicable)."""
    rows: dict[str, dict[str, str]] = {}
    header: list[str] | None = None
    for line in TABLE.read_text().splitlines():
        if not line.startswith("|") or set(line) <= {"|", "-", " ", ":"}:
            continue
        cells = [cell.strip().strip("`") for cell in line.strip("|").split("|")]
        if header is None:
            if cells[0] != "route":  # the legend's table
                continue
            header = cells
            assert header[1:] == COLUMNS, f"the table's columns must be {COLUMNS}"
            continue
        assert cells[0] not in rows, f"two rows for {cells[0]}"
        rows[cells[0]] = dict(zip(COLUMNS, cells[1:], strict=True))
    return rows


def operations() -> list[tuple[str, str]]:
    return [(method.upper(), path) for path, methods in document()["paths"].items() for method in methods]


def _url(path: str, ids: dict[str, str]) -> str:
    def fill(match: re.Match[str]) -> str:
        return ids[match.group(1)]

    url = re.sub(r"\{([^}]+)\}", fill, path)
    return f"{url}?{ids['photo_query']}" if path.startswith("/api/v1/files/") else url


def _ids(world: worlds.World, path: str, brand_of_ids: str) -> dict[str, str]:
    ids = world.brands[brand_of_ids].ids_for(path) | {"brand_id": BRAND}
    return ids | ({"name": "purge_expired_exports"} if path.startswith("/api/v1/dev/timers/") else {})


def _headers(world: worlds.World, caller: Caller, method: str, url: str, body: bytes) -> dict[str, str]:
    if caller.kind == "member":
        return world.member(caller.brand, caller.role)
    if caller.kind == "visitor":
        return world.visitor(caller.brand)
    if caller.kind == "manager":
        return world.manager(caller.brand, caller.level)
    if caller.kind == "operator":
        return world.operator()
    if caller.kind == "platform":
        return world.signed(caller.brand, method, url, body)
    if caller.kind == "webhook":
        return world.webhook()
    return {}


def _answer(client, world, caller: Caller, method: str, path: str, brand_of_ids: str = BRAND) -> int:
    url = _url(path, _ids(world, path, brand_of_ids))
    body = json.dumps(BODIES.get(f"{method} {path}", {})).encode() if method in {"POST", "PUT", "PATCH",
                                                                                 "DELETE"} else b""
    headers = {**_headers(world, caller, method, url, body), "Content-Type": "application/json"}
    return client.request(method, url, headers=headers, content=body).status_code


def _verdict(status: int) -> str:
    return str(status) if status in REFUSED else "ok"


class _Worlds:
    """A fresh copy of the seeded world for each call that may change it (a GET shares one per route)."""

    def __init__(self, template, tmp_path: Path) -> None:
        self.template_dir, self.brands, self.now = template
        self.tmp_path = tmp_path
        self.count = 0

    def fresh(self) -> worlds.World:
        from popsell.bootstrap import build_container, set_container
        from shared.clock import SettableClock

        self.count += 1
        data_dir = self.tmp_path / f"world-{self.count}"
        shutil.copytree(self.template_dir, data_dir)
        container = build_container(worlds.settings_for(data_dir), clock=SettableClock(self.now))
        set_container(container)  # the app reaches its composition root per request: this copy's
        return worlds.World(container, copy.deepcopy(self.brands))


def observed_row(template, tmp_path: Path, method: str, path: str) -> dict[str, str]:
    """What each kind of caller gets on one route, walked on fresh copies of the world."""
    from popsell.bootstrap import set_container

    copies = _Worlds(template, tmp_path)
    row: dict[str, str] = {}
    shared = copies.fresh() if method in SAFE_METHODS else None
    first_admitted: Caller | None = None
    try:
        for caller in CALLERS:
            row[caller.column] = _verdict(_answer(CLIENT, shared or copies.fresh(), caller, method, path))
            if row[caller.column] == "ok" and first_admitted is None:
                first_admitted = caller
        resource_ids = [name for name in re.findall(r"{([^}]+)}", path) if name != "brand_id"]
        if first_admitted is None or not resource_ids or "{brand_id}" not in path:
            row["xid"] = "·"
        else:
            row["xid"] = _verdict(_answer(CLIENT, shared or copies.fresh(), first_admitted, method, path,
                                          brand_of_ids=OTHER))
    finally:
        set_container(None)
    return row


def test_every_route_has_a_row_and_every_row_a_route():
    rows = set(read_table())
    routes = {f"{method} {path}" for method, path in operations()}
    assert sorted(routes - rows) == [], "routes without a row in access_matrix.md"
    assert sorted(rows - routes) == [], "rows of access_matrix.md naming no route"


@pytest.mark.parametrize(("method", "path"), operations(), ids=[f"{m} {p}" for m, p in operations()])
def test_each_kind_of_caller_gets_what_the_table_says(world_template, tmp_path, method, path):
    expected = read_table().get(f"{method} {path}")
    assert expected is not None, f"{method} {path} has no row in access_matrix.md"
    observed = observed_row(world_template, tmp_path, method, path)
    wrong = {column: f"expected {expected[column]}, got {observed[column]}"
             for column in COLUMNS if expected[column] != observed[column]}
    assert wrong == {}, json.dumps(wrong, indent=1)


def draft(out=sys.stdout) -> None:
    """Print the table as the code behaves today: a starting point to review, never the test's expectation."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        template_dir = root / "template"
        brands, now = worlds.make_template(template_dir)
        template = (template_dir, brands, now)
        print("| route | " + " | ".join(COLUMNS) + " |", file=out)
        print("|---|" + "---|" * len(COLUMNS), file=out)
        for index, (method, path) in enumerate(operations()):
            row = observed_row(template, root / f"route-{index}", method, path)
            print(f"| `{method} {path}` | " + " | ".join(row[column] for column in COLUMNS) + " |", file=out)


if __name__ == "__main__":
    draft()
