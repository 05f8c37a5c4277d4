"""The member directory as a website visitor sees it through the widget: public, and showing less."""

from __future__ import annotations

from datetime import timedelta

from shared.brands import service as brands
from shared.brands.models import BrandCreate
from shared.identity import repository
from shared.identity.models import Member, Role

LYON = (45.7640, 4.8357)
VISITOR_FIELDS = {"id", "displayName", "city", "postalCode", "homeShopId", "photoUrl", "availability", "distanceKm"}


def setup_brand(container, brand_id="acme", policy="first_name_initial"):
    brands.create(store=container.store, clock=container.clock,
                  data=BrandCreate(id=brand_id, name="Acme", displayNamePolicy=policy))


def add(container, id, *, brand_id="acme", hidden=False, status="active", **fields):
    member = Member(id=id, role=Role.VENDOR, status=status, created_at=container.clock.now(), first_name="Jane",
                    last_name="Doe", email=f"{id}@example.com", customer_id="CUST-9", birth_date="1990-05-17",
                    address={"street": "1 rue X", "city": "Lyon", "postalCode": "69001"}, home_shop_id="shop-1",
                    location={"lat": LYON[0], "lon": LYON[1]}, visibility={"hideFromCommunity": hidden}, **fields)
    repository.save(store=container.store.for_brand(brand_id), container=repository.MEMBERS, model=member, etag=None)


def test_a_visitor_browses_without_a_token_and_sees_no_forbidden_field(client, container):
    setup_brand(container)
    container.blobs.put("ugc", "photos/v.jpg", b"jpeg", content_type="image/jpeg")
    add(container, "shown", photo_blob="photos/v.jpg", availability="online",
        availability_until=container.clock.now() + timedelta(hours=1))

    for params in ({}, {"near": "45.70,4.80"}, {"sort": "availability"}, {"q": "jane d"}):
        response = client.get("/api/v1/widget/acme/directory", params=params)
        assert response.status_code == 200, response.text
        (entry,) = response.json()["items"]
        assert set(entry) == VISITOR_FIELDS
        assert entry["displayName"] == "Jane D."
        assert entry["availability"] == "online"
        text = response.text
        for forbidden in ("example.com", "CUST-9", "1990", "rue X", "Doe", "location", "lat", "45.764"):
            assert forbidden not in text
    distance = client.get("/api/v1/widget/acme/directory", params={"near": "45.70,4.80"}).json()["items"][0]
    assert distance["distanceKm"] == 8  # 7.7 km, rounded up to whole km


def test_hidden_and_inactive_members_never_appear_in_the_widget(client, container):
    setup_brand(container)
    add(container, "shown")
    add(container, "hidden", hidden=True)
    add(container, "blocked", status="blocked")
    add(container, "theirs", brand_id="acme")  # same brand, shown
    setup_brand(container, "other")
    add(container, "elsewhere", brand_id="other")

    listed = client.get("/api/v1/widget/acme/directory").json()["items"]
    assert sorted(item["id"] for item in listed) == ["shown", "theirs"]
    clusters = client.get("/api/v1/widget/acme/directory/map", params={"bbox": "45,4,46,6", "zoom": 12}).json()
    assert sum(cluster["count"] for cluster in clusters["clusters"]) == 2


def test_the_widget_map_shows_cell_centres_and_caps_the_zoom(client, container):
    setup_brand(container)
    add(container, "alone")

    body = client.get("/api/v1/widget/acme/directory/map", params={"bbox": "45,4,46,6", "zoom": 20}).json()

    assert body["zoom"] == 12
    (cluster,) = body["clusters"]
    assert (cluster["count"], cluster["memberId"], cluster["displayName"]) == (1, "alone", "Jane D.")
    assert (cluster["lat"], cluster["lon"]) != LYON
    assert abs(cluster["lat"] - LYON[0]) <= body["cellDegrees"] and abs(cluster["lon"] - LYON[1]) <= body["cellDegrees"]


def test_an_unknown_or_ended_brand_answers_404(client, container):
    assert client.get("/api/v1/widget/nobody/directory").status_code == 404
    setup_brand(container)
    brands.set_status(store=container.store, clock=container.clock, brand_id="acme", status="contract_ended")
    assert client.get("/api/v1/widget/acme/directory").status_code == 404


def test_the_app_directory_needs_a_member_token_of_that_brand(client, container):
    setup_brand(container)
    setup_brand(container, "other")
    add(container, "m")
    assert client.get("/api/v1/app/acme/directory").status_code == 401
    token = container.tokens.issue(subject="m", audience="app", brand_id="acme", now=container.clock.now(),
                                   ttl=timedelta(minutes=15), role=Role.VENDOR)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/app/acme/directory", headers=headers).status_code == 200
    assert client.get("/api/v1/app/other/directory", headers=headers).status_code == 404
