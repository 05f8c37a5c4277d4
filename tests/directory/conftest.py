"""The directory tests' brands, members and App caller."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.brands import service as brands
from shared.brands.models import BrandCreate
from shared.identity import repository
from shared.identity.models import Member, Role


@pytest.fixture
def make_brand(container):
    def create(brand_id="acme", policy="full_name"):
        brands.create(store=container.store, clock=container.clock,
                      data=BrandCreate(id=brand_id, name=brand_id.title(), displayNamePolicy=policy))
        return brand_id

    return create


@pytest.fixture
def add_member(container):
    counter = iter(range(10_000))

    def add(brand_id="acme", *, id=None, first="Jane", last="Doe", status="active", hidden=False, **fields):
        member = Member(
            id=id or f"m{next(counter):04d}", role=fields.pop("role", Role.AMBASSADOR), status=status,
            created_at=container.clock.now(), first_name=first, last_name=last,
            email=f"{first}.{last}@example.com".lower(), customer_id="CUST-1", birth_date="1990-05-17",
            visibility={"hideFromCommunity": hidden}, **fields,
        )
        repository.save(store=container.store.for_brand(brand_id), container=repository.MEMBERS, model=member,
                        etag=None)
        return member

    return add


@pytest.fixture
def app_get(client, container):
    """GET an App route as a member (a caller is created on first use)."""
    callers: dict[str, str] = {}

    def get(brand_id, path="directory", **params):
        if brand_id not in callers:
            caller = Member(id="caller", role=Role.VENDOR, status="active", created_at=container.clock.now(),
                            first_name="Zoe", last_name="Zed", visibility={"hideFromCommunity": True})
            repository.save(store=container.store.for_brand(brand_id), container=repository.MEMBERS, model=caller,
                            etag=None)
            callers[brand_id] = container.tokens.issue(
                subject="caller", audience="app", brand_id=brand_id, now=container.clock.now(),
                ttl=timedelta(minutes=15), role=caller.role,
            )
        return client.get(f"/api/v1/app/{brand_id}/{path}", params=params,
                          headers={"Authorization": f"Bearer {callers[brand_id]}"})

    return get


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def walk(get, brand_id, **params) -> list[dict]:
    """Every page of a listing, following continuation tokens."""
    items, token = [], None
    while True:
        response = get(brand_id, **params, **({"continuation": token} if token else {}))
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        token = response.json()["continuation"]
        if token is None:
            return items
