"""The access-control matrix: every route, every kind of caller, allowed or refused as the route declares.

Each route declares its access with `functions.http_api.access.access(...)`, which puts an
`x-access` note in the OpenAPI document. This test reads that note for every operation, calls
the route as each kind of caller (anonymous, a visitor, a member of each role, each Manager level,
an operator, and the same kinds from another brand), and checks that exactly the callers the
declaration admits get past authorization. "Refused" is 401, 403 or 404 (another brand's object
is hidden as 404); "allowed" is anything else (a 422 for an empty body means the caller got in).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from shared.identity import repository
from shared.identity.models import MEMBER_ROLES, ExternalUser, Member, Role, TermsAcceptance
from shared.integrations.signing import signed_headers

BRAND, OTHER = "acme", "globex"
REFUSED = {401, 403, 404}
LEVELS = ("viewer", "editor", "admin", "operator")


@dataclass(frozen=True)
class Caller:
    name: str
    brand: str | None
    kind: str  # anonymous | member | visitor | manager
    role: int | None = None
    level: str | None = None


CALLERS = (
    [Caller("anonymous", None, "anonymous")]
    + [Caller(f"member role {int(role)}", BRAND, "member", role=int(role)) for role in MEMBER_ROLES]
    + [Caller("visitor", BRAND, "visitor", role=int(Role.TEMPORARY_ACCOUNT))]
    + [Caller(f"manager {level}", BRAND, "manager", level=level) for level in LEVELS[:3]]
    + [Caller("operator", None, "manager", level="operator")]
    + [
        Caller("other brand member", OTHER, "member", role=0),
        Caller("other brand visitor", OTHER, "visitor", role=int(Role.TEMPORARY_ACCOUNT)),
        Caller("other brand admin", OTHER, "manager", level="admin"),
        Caller("brand platform (signed)", BRAND, "integration"),
        Caller("other brand platform (signed)", OTHER, "integration"),
    ]
)
BODY = b"{}"


def admitted(note: dict[str, Any], caller: Caller, path: str) -> bool:
    """Whether a route's declared access admits this caller (for the brand in the path, BRAND).

    A route with no brand in its path serves the caller's own brand: any brand's caller may enter.
    """
    audience = note["audience"]
    same_brand = caller.brand == BRAND or "{brand_id}" not in path
    if audience in ("public", "dev"):
        return True
    if audience == "member":
        roles = note.get("roles")
        return caller.kind == "member" and same_brand and (not roles or caller.role in roles)
    if audience == "visitor":
        return caller.kind == "visitor" and same_brand
    if audience == "manager":
        if caller.kind != "manager":
            return False
        if caller.level == "operator":
            return True
        return same_brand and LEVELS.index(caller.level) >= LEVELS.index(note["level"])
    if audience == "operator":
        return caller.level == "operator"
    if audience == "integration":
        return caller.kind == "integration" and caller.brand == BRAND
    if audience == "webhook":
        return False  # only the provider holds the webhook secret: every caller here is refused
    raise AssertionError(f"unknown audience {audience!r}")


def member_id(brand: str, role: int) -> str:
    return f"m-{brand}-{role}"


@pytest.fixture
def world(client, container, manager_token):
    """Two brands, an active member of every role in each, and tokens for every kind of caller."""
    operator = manager_token("operator")
    keys = {}
    for brand in (BRAND, OTHER):
        created = client.post("/api/v1/manager/brands", json={"id": brand, "name": brand}, headers=operator)
        assert created.status_code == 201
        keys[brand] = created.json()["integrationKey"]
        store = container.store.for_brand(brand)
        for role in MEMBER_ROLES:
            member = Member(id=member_id(brand, int(role)), role=role, status="active",
                            created_at=container.clock.now(), first_name="Test", last_name=f"Role{int(role)}")
            repository.save(store, repository.MEMBERS, member, etag=None)
        visitor = ExternalUser(id=f"v-{brand}", role=Role.TEMPORARY_ACCOUNT, created_at=container.clock.now(),
                               widget_policy=TermsAcceptance(version="1", accepted_at=container.clock.now()))
        repository.save(store, repository.VISITORS, visitor, etag=None)
    container.integration_keys = keys  # the test's own note of each brand's first key
    return container


def headers_for(caller: Caller, container, manager_token, method: str, url: str) -> dict[str, str]:
    now, ttl = container.clock.now(), timedelta(minutes=15)
    if caller.kind == "anonymous":
        return {}
    if caller.kind == "integration":
        key = container.integration_keys[caller.brand]
        return signed_headers(kid=key["kid"], secret=key["secret"], method=method, path=url, body=BODY, now=now)
    if caller.kind == "manager":
        return manager_token(caller.level, None if caller.level == "operator" else caller.brand)
    if caller.kind == "member":
        token = container.tokens.issue(subject=member_id(caller.brand, caller.role), audience="app",
                                       brand_id=caller.brand, now=now, ttl=ttl, role=caller.role)
    else:
        token = container.tokens.issue(subject=f"v-{caller.brand}", audience="widget", brand_id=caller.brand,
                                       now=now, ttl=ttl, role=caller.role)
    return {"Authorization": f"Bearer {token}"}


def concrete_path(template: str) -> str:
    """Fill path parameters: the brand under test, an existing member, placeholders elsewhere."""
    path = template.replace("{brand_id}", BRAND).replace("{member_id}", member_id(BRAND, 0))
    return re.sub(r"\{[^}]+\}", "x", path)


def operations(app) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, methods in app.openapi()["paths"].items():
        for method, operation in methods.items():
            found.append((method.upper(), path, operation.get("x-access")))
    return found


def test_every_route_declares_its_access(client):
    undeclared = [f"{method} {path}" for method, path, note in operations(client.app) if note is None]
    assert undeclared == [], f"routes without access(...): {undeclared}"


def test_every_route_admits_exactly_the_declared_callers(client, world, manager_token):
    mismatches = []
    for method, path, note in operations(client.app):
        if note is None or note["audience"] == "dev":
            continue
        url = concrete_path(path)
        for caller in CALLERS:
            headers = {**headers_for(caller, world, manager_token, method, url), "Content-Type": "application/json"}
            response = client.request(method, url, headers=headers, content=BODY)
            expected = admitted(note, caller, path)
            got_in = response.status_code not in REFUSED if expected else response.status_code in REFUSED
            # An admitted caller may still meet a 404 for a placeholder id: only 401/403 prove a refusal there.
            if expected and response.status_code == 404 and "x" in url.split("/"):
                got_in = True
            if not got_in:
                mismatches.append(f"{method} {path} as {caller.name}: {response.status_code} "
                                  f"({'should be allowed' if expected else 'should be refused'})")
    assert mismatches == [], "\n".join(mismatches)


def test_the_matrix_covers_every_audience_kind(client):
    audiences = {note["audience"] for _, _, note in operations(client.app) if note}
    assert {"public", "member", "visitor", "manager", "operator", "integration", "dev"} <= audiences
