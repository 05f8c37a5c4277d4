"""The directory's indexes: substring search of the shown name, the listing keys, distance pages that
resume, maps that follow every change of a member (docs/decisions/0038-directory-indexes.md)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from shared.clock import isoformat
from shared.directory import service as directory
from shared.gdpr import erasure
from shared.identity import lifecycle, profiles, repository
from shared.identity.directory_index import haversine_km, search_pattern
from shared.identity.models import GeoPoint
from shared.ports.store import Filter, PatchOp
from tests.directory.conftest import ids, walk

LYON = (45.7640, 4.8357)
PARIS = (48.8566, 2.3522)


@pytest.mark.parametrize(("policy", "found", "not_found"), [
    # "Jane Doe", alias "Sunny"; "Jane Xu" without an alias.
    ("full_name", {"doe": ["jd"], "e d": ["jd"], "d": ["jd"], "xu": ["jx"], "ne": ["jd", "jx"]},
     ["sun", "un", "y"]),
    ("first_name_initial", {"e d.": ["jd"], "d.": ["jd"], "d": ["jd"], "x.": ["jx"], "ja": ["jd", "jx"]},
     ["doe", "do", "o", "xu", "u", "sun"]),
    ("alias", {"unn": ["jd"], "nn": ["jd"], "y": ["jd"], "x.": ["jx"], "jane": ["jx"]},
     ["doe", "jane d", "ja d", "xu", "u.", "e d"]),
])
def test_contains_matches_the_shown_name_only_under_each_policy(make_brand, add_member, app_get, container,
                                                                 policy, found, not_found):
    make_brand(policy=policy)
    add_member(id="jd", first="Jane", last="Doe", alias="Sunny")
    add_member(id="jx", first="Jane", last="Xu")
    add_member(id="gone", first="Jane", last="Doe", alias="Sunny", hidden=True)

    for text, expected in found.items():
        assert ids(app_get("acme", q=text, match="contains")) == expected, text
    for text in not_found:
        assert ids(app_get("acme", q=text, match="contains")) == [], text
    # The index itself holds nothing more than the shown name, nor anything of a hidden member.
    store = container.store.for_brand("acme")
    path = {"full_name": "fullName", "first_name_initial": "initialName", "alias": "aliasName"}[policy]
    for text in not_found:
        matches = store.query_all("members", filters=[Filter(f"directory.search.{path}", "contains",
                                                             search_pattern(text))])
        assert matches == [], text
    assert "search" not in store.get("members", "gone")["directory"]
    assert "keys" not in store.get("members", "gone")["directory"]


def test_contains_pages_follow_the_name_order(make_brand, add_member, app_get):
    make_brand()
    rng = random.Random(3)
    names = {}
    for index in range(40):
        first, last = rng.choice(["Marie", "Arnaud", "Léo", "Zoé", "Oscar"]), rng.choice(["Martin", "Roux", "Lary"])
        names[f"m{index:02d}"] = f"{first} {last}".lower().replace("é", "e")
        add_member(id=f"m{index:02d}", first=first, last=last)

    for text in ("ar", "mar", "o", "rou", "zz"):
        expected = sorted((name, key) for key, name in names.items() if text in name)
        items = walk(app_get, "acme", q=text, match="contains", pageSize=3)
        assert [item["id"] for item in items] == [key for _, key in expected], text


def _spread(add_member, count: int, seed: int) -> dict[str, tuple[float, float]]:
    rng = random.Random(seed)
    points = {}
    for index in range(count):
        center = LYON if index % 3 else PARIS
        lat, lon = center[0] + rng.gauss(0, 0.3), center[1] + rng.gauss(0, 0.4)
        if index % 10 == 0:  # a few in the same cell: equal distances are ordered by id
            lat, lon = LYON
        points[f"p{index:03d}"] = (lat, lon)
        add_member(id=f"p{index:03d}", first=f"P{index}", location={"lat": lat, "lon": lon})
    return points


@pytest.mark.parametrize("block_read", [48, 2], ids=["default-blocks", "splitting-every-block"])
def test_the_third_distance_page_is_the_slice_of_one_long_page(make_brand, add_member, app_get, monkeypatch,
                                                               block_read):
    make_brand()
    points = _spread(add_member, 130, seed=11)
    add_member(id="hidden", hidden=True, location={"lat": LYON[0], "lon": LYON[1]})
    monkeypatch.setattr(directory, "BLOCK_READ", block_read)
    near = "45.70,4.90"
    expected = sorted(points, key=lambda key: (haversine_km(45.70, 4.90, *points[key]), key))

    long_page = ids(app_get("acme", near=near, pageSize=100))
    token = None
    for _ in range(2):
        token = app_get("acme", near=near, pageSize=20, **({"continuation": token} if token else {})).json()[
            "continuation"]
    third = ids(app_get("acme", near=near, pageSize=20, continuation=token))

    assert long_page == expected[:100]
    assert third == long_page[40:60]
    assert [item["id"] for item in walk(app_get, "acme", near=near, pageSize=20)] == expected
    within = [key for key in expected if haversine_km(45.70, 4.90, *points[key]) <= 30]
    assert [item["id"] for item in walk(app_get, "acme", near=near, radiusKm=30, pageSize=7)] == within


def test_search_by_store_in_name_order_page_by_page(make_brand, add_member, app_get):
    make_brand()
    make_brand("pseudo", policy="alias")
    for brand_id in ("acme", "pseudo"):
        add_member(brand_id, id="c", first="Chloé", alias="Ava", home_shop_id="s1")
        add_member(brand_id, id="a", first="Ada", alias="Zed", home_shop_id="s1", availability="away")
        add_member(brand_id, id="b", first="Bruno", alias="Max", home_shop_id="s1")
        add_member(brand_id, id="d", first="Dora", home_shop_id="s2")
        add_member(brand_id, id="e", first="Eve", home_shop_id="s1", hidden=True)
        add_member(brand_id, id="f", first="Fred", home_shop_id="s1", status="blocked")

    assert [item["id"] for item in walk(app_get, "acme", shopId="s1", pageSize=1)] == ["a", "b", "c"]
    assert ids(app_get("acme", shopId="s1", q="br")) == ["b"]
    assert ids(app_get("acme", shopId="s1", sort="availability")) == ["a", "b", "c"]
    assert ids(app_get("acme", shopId="nowhere")) == []
    assert [item["id"] for item in walk(app_get, "pseudo", shopId="s1", pageSize=2)] == ["c", "b", "a"]
    assert ids(app_get("pseudo", shopId="s1", q="ada")) == []  # the alias policy hides the real name


def test_the_map_follows_a_member_who_moves_hides_is_blocked_or_erased(make_brand, add_member, app_get, client,
                                                                        container):
    """From zoom 9 on, a map reads the members of its box: it follows every change at once."""
    make_brand()
    store, now = container.store.for_brand("acme"), container.clock.now()
    for index in range(3):
        add_member(id=f"lyon{index}", location={"lat": LYON[0] + index / 1000, "lon": LYON[1]})
    add_member(id="paris0", location={"lat": PARIS[0], "lon": PARIS[1]})

    def counts(view="member"):
        if view == "member":
            body = app_get("acme", "directory/map", bbox="43,0,50,8", zoom=9).json()
        else:
            body = client.get("/api/v1/widget/acme/directory/map", params={"bbox": "43,0,50,8", "zoom": 9}).json()
        return sorted((round(c["lat"]), c["count"], c["memberId"]) for c in body["clusters"])

    assert counts() == [(46, 3, None), (49, 1, "paris0")]
    profiles.update(store=store, member_id="lyon0", changes=profiles.ProfileUpdate(
        location=GeoPoint(lat=PARIS[0] + 0.001, lon=PARIS[1])), now=now)
    assert counts() == [(46, 2, None), (49, 2, None)]
    profiles.update(store=store, member_id="lyon1", changes=profiles.ProfileUpdate(
        visibility=profiles.VisibilityUpdate(hide_from_community=True)), now=now)
    assert counts() == [(46, 1, "lyon2"), (49, 2, None)]
    lifecycle.block(store=store, events=container.events, member_id="lyon2", now=now)
    assert counts() == [(49, 2, None)]
    erasure.erase_member(store=store, blobs=container.blobs, hasher=container.hasher("acme"), events=container.events,
                         member_id="paris0", now=now, rule="member_unsubscribed")
    assert counts() == [(49, 1, "lyon0")]
    assert [(count, member) for _, count, member in counts("visitor")] == [(1, "lyon0")]
    lifecycle.unblock(store=store, events=container.events, member_id="lyon2", now=now)
    assert counts() == [(46, 1, "lyon2"), (49, 1, "lyon0")]


def test_running_statuses_lead_their_rank_across_hours_and_ended_ones_join_the_offline(
        make_brand, add_member, app_get, container, clock):
    make_brand()
    store = container.store.for_brand("acme")
    for member_id, first in (("ann", "Ann"), ("bob", "Bob"), ("cid", "Cid"), ("dan", "Dan"), ("eve", "Eve"),
                             ("fay", "Fay")):
        add_member(id=member_id, first=first)
    clock.set(clock.now().replace(hour=9, minute=40))
    profiles.set_availability(store=store, member_id="dan", availability="online", now=clock.now())  # ends 09:55
    clock.advance(timedelta(minutes=10))
    profiles.set_availability(store=store, member_id="bob", availability="online", now=clock.now())  # ends 10:05
    profiles.set_availability(store=store, member_id="fay", availability="away", now=clock.now())
    clock.advance(timedelta(minutes=4))  # 09:54
    profiles.set_availability(store=store, member_id="eve", availability="online", now=clock.now())  # ends 10:09

    assert ids(app_get("acme", sort="availability")) == ["bob", "dan", "eve", "fay", "ann", "cid"]
    assert [item["id"] for item in walk(app_get, "acme", sort="availability", pageSize=1)] == [
        "bob", "dan", "eve", "fay", "ann", "cid"]
    clock.advance(timedelta(minutes=2))  # 09:56: dan's status ended
    assert ids(app_get("acme", sort="availability")) == ["bob", "eve", "fay", "ann", "cid", "dan"]
    clock.advance(timedelta(minutes=10))  # 10:06: only eve's runs
    response = app_get("acme", sort="availability")
    assert ids(response) == ["eve", "ann", "bob", "cid", "dan", "fay"]
    assert [item["availability"] for item in response.json()["items"]] == ["online"] + ["offline"] * 5
    assert [item["id"] for item in walk(app_get, "acme", sort="availability", pageSize=2)] == [
        "eve", "ann", "bob", "cid", "dan", "fay"]


def test_members_projected_before_the_listing_keys_are_projected_again(make_brand, add_member, app_get,
                                                                       container):
    make_brand()
    store = container.store.for_brand("acme")
    add_member(id="old", first="Olga", home_shop_id="s1")
    add_member(id="new", first="Nina", home_shop_id="s1")
    legacy = {key: value for key, value in store.get("members", "old")["directory"].items()
              if key not in ("keys", "search")}
    store.patch("members", "old", [PatchOp("set", "directory", legacy)])
    assert ids(app_get("acme", shopId="s1")) == ["new"]  # no listing key: not listed

    assert repository.reproject_members(store=store) == 1
    assert ids(app_get("acme", shopId="s1")) == ["new", "old"]
    assert ids(app_get("acme", q="olg", match="contains")) == ["old"]
    assert repository.reproject_members(store=store) == 0


def test_low_zooms_count_ahead_refreshed_by_the_timer_and_never_name_a_member_who_hid(
        make_brand, add_member, app_get, container, clock):
    from popsell.registry import timer_jobs

    make_brand()
    store = container.store.for_brand("acme")
    for index in range(3):
        add_member(id=f"lyon{index}", location={"lat": LYON[0] + index / 1000, "lon": LYON[1]})
    add_member(id="paris0", location={"lat": PARIS[0], "lon": PARIS[1]})

    def counts():
        body = app_get("acme", "directory/map", bbox="43,0,50,8", zoom=6).json()
        return sorted((round(c["lat"]), c["count"], c["memberId"], c["displayName"]) for c in body["clusters"]), body

    found, body = counts()
    assert found == [(46, 3, None, None), (49, 1, "paris0", "Jane Doe")] and body["countedAt"] is not None
    profiles.update(store=store, member_id="paris0", changes=profiles.ProfileUpdate(
        visibility=profiles.VisibilityUpdate(hide_from_community=True)), now=clock.now())
    add_member(id="lyon3", location={"lat": LYON[0], "lon": LYON[1]})
    assert counts()[0] == [(46, 3, None, None)]  # the grid is not counted again yet, but a hidden member is never named
    timer_jobs()["directory_grids"].run(container, False)
    assert counts()[0] == [(46, 4, None, None)]
    counted = store.get("directory_grids", "z6")  # counted longer ago than the grid's maximum age:
    store.replace("directory_grids", {**counted, "builtAt": isoformat(clock.now() - timedelta(minutes=16))})
    add_member(id="lyon4", location={"lat": LYON[0], "lon": LYON[1]})
    assert counts()[0] == [(46, 5, None, None)]
