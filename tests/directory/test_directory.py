"""The member directory as members see it in the App: who appears, under which name, in which order."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest

from shared.directory import service as directory
from shared.identity.directory_index import haversine_km
from shared.ports.store import PatchOp
from tests.directory.conftest import ids, walk

LYON = (45.7640, 4.8357)
PARIS = (48.8566, 2.3522)


def test_only_active_members_who_did_not_hide_appear_in_list_search_and_map(make_brand, add_member, app_get):
    make_brand()
    add_member(id="shown", first="Anna", location={"lat": LYON[0], "lon": LYON[1]})
    add_member(id="hidden", first="Anna", hidden=True, location={"lat": LYON[0], "lon": LYON[1]})
    for status in ("pending_verification", "blocked", "unsubscribed", "contract_ended", "erased"):
        add_member(id=status, first="Anna", status=status, location={"lat": LYON[0], "lon": LYON[1]})

    assert ids(app_get("acme")) == ["shown"]
    assert ids(app_get("acme", q="ann")) == ["shown"]
    assert ids(app_get("acme", q="doe", match="contains")) == ["shown"]
    assert ids(app_get("acme", sort="availability")) == ["shown"]
    assert ids(app_get("acme", near=f"{LYON[0]},{LYON[1]}")) == ["shown"]
    assert ids(app_get("acme", city="Lyon")) == []  # no address: the filter needs a city
    clusters = app_get("acme", "directory/map", bbox="45,4,46,6", zoom=15).json()["clusters"]
    assert [(c["count"], c["memberId"]) for c in clusters] == [(1, "shown")]


def test_an_entry_shows_only_the_directory_fields(make_brand, add_member, app_get, container):
    make_brand()
    container.blobs.put("ugc", "photos/m.jpg", b"jpeg", content_type="image/jpeg")
    add_member(id="m", first="Jane", last="Doe", address={"street": "1 rue X", "city": "Lyon", "postalCode": "69001"},
               home_shop_id="shop-1", location={"lat": LYON[0], "lon": LYON[1]}, photo_blob="photos/m.jpg",
               position="Head of sales", self_presentation="Hello")
    add_member(id="n", first="Noel", last="Doe", address={"postalCode": "75001"})

    items = app_get("acme").json()["items"]

    jane, noel = items
    assert set(jane) == {"id", "displayName", "city", "postalCode", "homeShopId", "location", "photoUrl",
                         "availability", "distanceKm"}
    assert jane["displayName"] == "Jane Doe"
    assert (jane["city"], jane["postalCode"], jane["homeShopId"]) == ("Lyon", None, "shop-1")
    assert jane["location"] == {"lat": LYON[0], "lon": LYON[1]}
    assert "/ugc/photos/m.jpg?" in jane["photoUrl"] and "expires=" in jane["photoUrl"]
    assert (noel["city"], noel["postalCode"], noel["photoUrl"]) == (None, "75001", None)
    text = str(items)
    for secret in ("example.com", "CUST-1", "1990", "rue X", "Head of sales", "Hello"):
        assert secret not in text


@pytest.mark.parametrize(("policy", "first", "last", "alias", "shown"), [
    ("full_name", "Jane", "Doe", "jd", "Jane Doe"),
    ("first_name_initial", "Jane", "doe", "jd", "Jane D."),
    ("first_name_initial", "Jane", None, "jd", "Jane"),
    ("alias", "Jane", "Doe", "JD", "JD"),
    ("alias", "Jane", "Doe", None, "Jane D."),  # no alias chosen: first name and family initial
])
def test_the_brands_display_name_policy_decides_the_name(make_brand, add_member, app_get, policy, first, last,
                                                          alias, shown):
    make_brand(policy=policy)
    add_member(id="m", first=first, last=last, alias=alias)
    assert app_get("acme").json()["items"][0]["displayName"] == shown


def test_searching_never_reveals_more_of_a_name_than_the_policy_shows(make_brand, add_member, app_get):
    make_brand("initials", policy="first_name_initial")
    add_member("initials", id="m", first="Jane", last="Doe")
    assert ids(app_get("initials", q="jane d")) == ["m"]
    assert ids(app_get("initials", q="jane d.")) == ["m"]
    assert ids(app_get("initials", q="jane do")) == []
    assert ids(app_get("initials", q="doe", match="contains")) == []
    make_brand("aliases", policy="alias")
    add_member("aliases", id="m", first="Jane", last="Doe", alias="Sunny")
    assert ids(app_get("aliases", q="sun")) == ["m"]
    assert ids(app_get("aliases", q="jane")) == []


def test_name_search_ignores_accents_and_case(make_brand, add_member, app_get):
    make_brand()
    add_member(id="elodie", first="Élodie", last="Müller")
    add_member(id="eloise", first="Eloïse", last="Martin")
    add_member(id="bob", first="Bob", last="Léger")
    assert ids(app_get("acme", q="ELO")) == ["elodie", "eloise"]
    assert ids(app_get("acme", q="élodie mu")) == ["elodie"]
    assert ids(app_get("acme", q="leger", match="contains")) == ["bob"]
    assert ids(app_get("acme", q="mull", match="prefix")) == []


def test_the_default_order_is_alphabetical_and_the_alias_policy_sorts_by_alias(make_brand, add_member, app_get):
    make_brand()
    add_member(id="c", first="Chloé", last="A", alias="aaa")
    add_member(id="a", first="Ada", last="Z", alias="zzz")
    add_member(id="b", first="bruno", last="M", alias="mmm")
    assert ids(app_get("acme")) == ["a", "b", "c"]
    make_brand("pseudo", policy="alias")
    add_member("pseudo", id="c", first="Chloé", last="A", alias="aaa")
    add_member("pseudo", id="a", first="Ada", last="Z", alias="Zzz")
    add_member("pseudo", id="b", first="bruno", last="M", alias="mmm")
    assert ids(app_get("pseudo")) == ["c", "b", "a"]


def test_city_and_home_shop_filters(make_brand, add_member, app_get):
    make_brand()
    add_member(id="lyon1", first="B", address={"city": "Lyon"}, home_shop_id="s1")
    add_member(id="lyon2", first="A", address={"city": "LYON"}, home_shop_id="s2")
    add_member(id="paris", first="C", address={"city": "Paris"}, home_shop_id="s1")
    assert ids(app_get("acme", city="lyon")) == ["lyon2", "lyon1"]
    assert ids(app_get("acme", shopId="s1")) == ["lyon1", "paris"]
    assert ids(app_get("acme", city="Lyon", shopId="s1")) == ["lyon1"]
    assert ids(app_get("acme", city="Lyon", q="b")) == ["lyon1"]


def test_distance_order_follows_the_great_circle_and_the_radius_holds(make_brand, add_member, app_get):
    make_brand()
    rng = random.Random(7)
    points = {}
    for index in range(60):
        lat, lon = LYON[0] + rng.uniform(-1.5, 1.5), LYON[1] + rng.uniform(-2, 2)
        points[f"p{index:02d}"] = (lat, lon)
        add_member(id=f"p{index:02d}", first=f"P{index}", location={"lat": lat, "lon": lon})
    add_member(id="paris", location={"lat": PARIS[0], "lon": PARIS[1]})
    add_member(id="nowhere")  # no location: not in a distance listing
    near = f"{LYON[0]},{LYON[1]}"
    expected = sorted(points, key=lambda key: (haversine_km(*LYON, *points[key]), key))

    items = walk(app_get, "acme", near=near, pageSize=7)
    assert [item["id"] for item in items] == [*expected, "paris"]
    distances = [item["distanceKm"] for item in items]
    assert distances == sorted(distances)
    assert math.isclose(items[-1]["distanceKm"], haversine_km(*LYON, *PARIS), abs_tol=0.001)

    within = [key for key in expected if haversine_km(*LYON, *points[key]) <= 50]
    assert [item["id"] for item in walk(app_get, "acme", near=near, radiusKm=50, pageSize=5)] == within
    assert 0 < len(within) < 60


def test_availability_order_online_away_offline_and_statuses_expire(make_brand, add_member, app_get, clock):
    make_brand()
    soon, later = clock.now() + timedelta(minutes=5), clock.now() + timedelta(hours=2)
    add_member(id="off", first="Alice")
    add_member(id="away", first="Bea", availability="away", availability_until=later)
    add_member(id="on-soon", first="Carl", availability="online", availability_until=soon)
    add_member(id="on", first="Dora", availability="online", availability_until=later)
    add_member(id="on-forever", first="Eve", availability="online")
    assert ids(app_get("acme", sort="availability")) == ["on-soon", "on", "on-forever", "away", "off"]

    clock.advance(timedelta(minutes=10))

    response = app_get("acme", sort="availability")
    assert ids(response) == ["on", "on-forever", "away", "off", "on-soon"]
    assert response.json()["items"][-1]["availability"] == "offline"
    paged = walk(app_get, "acme", sort="availability", pageSize=2)
    assert [item["id"] for item in paged] == ["on", "on-forever", "away", "off", "on-soon"]


def test_map_clusters_split_as_the_zoom_grows(make_brand, add_member, app_get):
    make_brand()
    add_member(id="lyon-a", location={"lat": 45.7640, "lon": 4.8357})
    add_member(id="lyon-b", location={"lat": 45.7700, "lon": 4.8400})
    add_member(id="paris", first="Paul", location={"lat": PARIS[0], "lon": PARIS[1]})
    add_member(id="outside", location={"lat": 40.4, "lon": -3.7})  # Madrid, outside the box

    def clusters(zoom):
        response = app_get("acme", "directory/map", bbox="43,0,50,8", zoom=zoom)
        assert response.status_code == 200, response.text
        return sorted((c["count"], c["memberId"]) for c in response.json()["clusters"])

    assert clusters(2) == [(3, None)]
    assert clusters(8) == [(1, "paris"), (2, None)]
    assert clusters(16) == [(1, "lyon-a"), (1, "lyon-b"), (1, "paris")]
    lone = app_get("acme", "directory/map", bbox="48,2,49,3", zoom=16).json()["clusters"][0]
    assert (lone["lat"], lone["lon"], lone["displayName"]) == (PARIS[0], PARIS[1], "Paul Doe")


def test_pagination_returns_each_member_once(make_brand, add_member, app_get):
    make_brand()
    for index in range(37):
        add_member(id=f"m{index:02d}", first=random.Random(index).choice(["Ann", "Bob", "Cy"]),
                   availability=("online", "away", "offline")[index % 3], address={"city": "Lyon"},
                   location={"lat": LYON[0] + index / 100, "lon": LYON[1]})
    everyone = {f"m{index:02d}" for index in range(37)}
    for params in ({}, {"sort": "availability"}, {"near": "45,4"}, {"city": "lyon"}, {"q": "b"}):
        items = [item["id"] for item in walk(app_get, "acme", pageSize=4, **params)]
        assert len(items) == len(set(items))
        if "q" not in params:
            assert set(items) == everyone


def test_another_brands_members_never_appear(make_brand, add_member, app_get):
    make_brand("acme")
    make_brand("other")
    add_member("acme", id="ours", location={"lat": LYON[0], "lon": LYON[1]})
    add_member("other", id="theirs", location={"lat": LYON[0], "lon": LYON[1]})
    assert ids(app_get("acme")) == ["ours"]
    assert ids(app_get("acme", near="45.7,4.8")) == ["ours"]
    assert [c["memberId"] for c in app_get("acme", "directory/map", bbox="45,4,46,6", zoom=16).json()["clusters"]] \
        == ["ours"]


def test_bad_input_is_422_naming_the_field(make_brand, add_member, app_get):
    make_brand()
    add_member(id="a")
    add_member(id="b")
    cases = [
        ({"sort": "distance"}, "near"),
        ({"near": "91,2"}, "near"),
        ({"near": "abc"}, "near"),
        ({"radiusKm": 5}, "radiusKm"),
        ({"pageSize": 101}, "pageSize"),
        ({"continuation": "garbage"}, "continuation"),
    ]
    for params, field in cases:
        response = app_get("acme", **params)
        assert response.status_code == 422, params
        assert field in response.text
    assert app_get("acme", "directory/map", bbox="50,0,40,8", zoom=3).status_code == 422
    token = app_get("acme", pageSize=1).json()["continuation"]
    assert app_get("acme", pageSize=1, continuation=token).status_code == 200
    assert app_get("acme", sort="availability", continuation=token).status_code == 422  # another query's token


def test_distance_order_reaches_the_other_side_of_the_world(make_brand, add_member, app_get):
    make_brand()
    add_member(id="sydney", location={"lat": -33.87, "lon": 151.21})
    add_member(id="paris", location={"lat": PARIS[0], "lon": PARIS[1]})
    add_member(id="pole", location={"lat": 89.99, "lon": -179.99})
    assert ids(app_get("acme", near=f"{LYON[0]},{LYON[1]}")) == ["paris", "pole", "sydney"]
    assert ids(app_get("acme", near=f"{LYON[0]},{LYON[1]}", radiusKm=15000)) == ["paris", "pole"]


def test_expired_statuses_take_their_place_among_the_offline_by_name(make_brand, add_member, app_get, clock):
    make_brand()
    past, later = clock.now() - timedelta(minutes=1), clock.now() + timedelta(hours=1)
    add_member(id="ann", first="Ann")
    add_member(id="bob", first="Bob", availability="online", availability_until=past)
    add_member(id="cid", first="Cid")
    add_member(id="dan", first="Dan", availability="away", availability_until=past)
    add_member(id="eve", first="Eve", availability="away", availability_until=later)
    add_member(id="fay", first="Fay", availability="online")
    add_member(id="gus", first="Gus", hidden=True, availability="online")
    add_member(id="hal", first="Hal", status="blocked")
    expected = ["fay", "eve", "ann", "bob", "cid", "dan"]

    assert ids(app_get("acme", sort="availability")) == expected
    for size in (1, 2, 4):
        assert [item["id"] for item in walk(app_get, "acme", sort="availability", pageSize=size)] == expected
    statuses = {item["id"]: item["availability"] for item in app_get("acme", sort="availability").json()["items"]}
    assert statuses == {"fay": "online", "eve": "away", "ann": "offline", "bob": "offline", "cid": "offline",
                        "dan": "offline"}


def test_availability_order_with_filters_and_the_alias_policy(make_brand, add_member, app_get):
    make_brand("pseudo", policy="alias")
    add_member("pseudo", id="z", first="Ada", alias="Zed", availability="online", address={"city": "Lyon"})
    add_member("pseudo", id="a", first="Zoe", alias="Abe", availability="online", address={"city": "Lyon"})
    add_member("pseudo", id="m", first="Max", alias="Mia", address={"city": "Lyon"})
    add_member("pseudo", id="p", first="Pia", alias="Pat", availability="online", address={"city": "Paris"})
    assert ids(app_get("pseudo", sort="availability", city="lyon")) == ["a", "z", "m"]
    assert ids(app_get("pseudo", sort="availability", q="z")) == ["z"]
    assert ids(app_get("pseudo", sort="availability", q="ada")) == []  # the real name stays hidden


def test_name_search_under_each_policy_matches_the_shown_name_only(make_brand, add_member, app_get, container):
    make_brand("full")
    make_brand("initials", policy="first_name_initial")
    make_brand("aliases", policy="alias")
    for brand_id in ("full", "initials", "aliases"):
        add_member(brand_id, id="jd", first="Jane", last="Doe", alias="Sunny")
        add_member(brand_id, id="jx", first="Jane", last="Xu")  # no alias: "Jane X." under the alias policy
    assert ids(app_get("full", q="jane d")) == ["jd"]
    assert ids(app_get("full", q="sun")) == []
    assert ids(app_get("initials", q="jane x.")) == ["jx"]
    assert ids(app_get("initials", q="xu", match="contains")) == []
    assert ids(app_get("aliases", q="jane")) == ["jx"]
    assert ids(app_get("aliases", q="x.", match="contains")) == ["jx"]
    # A member saved before the projection held the shown initial form is still matched on it.
    container.store.for_brand("initials").patch("members", "jd", [PatchOp("remove", "directory.initialName")])
    assert ids(app_get("initials", q="jane d.")) == ["jd"]
    assert ids(app_get("initials", q="doe", match="contains")) == []


def test_a_map_past_its_read_limit_says_it_is_truncated(make_brand, add_member, app_get, monkeypatch):
    make_brand()
    for index in range(6):
        add_member(id=f"m{index}", location={"lat": LYON[0] + index / 100, "lon": LYON[1]})
    full = app_get("acme", "directory/map", bbox="45,4,46,6", zoom=9).json()  # zoom 9 on: members are read
    assert (full["truncated"], sum(c["count"] for c in full["clusters"])) == (False, 6)

    monkeypatch.setattr(directory, "MAP_READ_LIMIT", 3)
    partial = app_get("acme", "directory/map", bbox="45,4,46,6", zoom=9).json()
    assert partial["truncated"] is True
    assert sum(c["count"] for c in partial["clusters"]) < 6
