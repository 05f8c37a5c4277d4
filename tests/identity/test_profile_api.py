"""The member's own profile through the App API: edit own data only, photos checked by their bytes, availability."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from shared.identity import repository
from shared.identity.models import Member, Role
from shared.ports.blobs import CONTAINER_UGC

BRAND, OTHER = "acme", "globex"
ME = f"/api/v1/app/{BRAND}/me"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 200


def make_brands(client, manager_token, *brand_ids):
    for brand_id in brand_ids:
        response = client.post("/api/v1/manager/brands", json={"id": brand_id, "name": brand_id.title()},
                               headers=manager_token("operator"))
        assert response.status_code == 201


def add_member(container, brand_id=BRAND, member_id="m1", role=Role.VENDOR, **extra) -> Member:
    fields = {"status": "active", "first_name": "Ana", "last_name": "Lopes", "email": f"{member_id}@example.com",
              **extra}
    member = Member(id=member_id, role=role, created_at=container.clock.now(), **fields)
    repository.save(store=container.store.for_brand(brand_id), container=repository.MEMBERS, model=member, etag=None)
    return member


def app_headers(container, member: Member, brand_id=BRAND, ttl=timedelta(minutes=15)) -> dict[str, str]:
    token = container.tokens.issue(subject=member.id, audience="app", brand_id=brand_id, now=container.clock.now(),
                                   ttl=ttl, role=int(member.role))
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def me(client, container, manager_token):
    make_brands(client, manager_token, BRAND, OTHER)
    return app_headers(container, add_member(container))


def test_a_member_reads_and_edits_their_own_profile(client, container, me):
    response = client.patch(ME, headers=me, json={
        "alias": "ana.l", "address": {"city": "Lyon", "postalCode": "69001"}, "birthDate": "1990-05-17",
        "communication": {"newsletters": False}, "location": {"lat": 45.76, "lon": 4.83},
        "ownedProducts": ["sku-1", "sku-1", "sku-2"], "visibility": {"hideFromCommunity": True},
    })
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["alias"] == "ana.l" and body["firstName"] == "Ana"
    assert body["address"] == {"street": None, "city": "Lyon", "postalCode": "69001", "country": None}
    assert body["communication"] == {"newsletters": False, "eventNotifications": True,
                                     "challengeNotifications": True, "commentNotifications": True}
    assert body["ownedProducts"] == ["sku-1", "sku-2"]
    assert client.get(ME, headers=me).json() == body
    stored = container.store.for_brand(BRAND).get(repository.MEMBERS, "m1")
    assert stored["birthYear"] == 1990
    assert stored["directory"]["listed"] is False  # hidden from the community at once

    # Only the fields sent change; a second partial edit keeps the first.
    again = client.patch(ME, headers=me, json={"address": {"street": "1 rue X"}}).json()
    assert again["address"]["city"] == "Lyon" and again["address"]["street"] == "1 rue X"


@pytest.mark.parametrize(("body", "field"), [
    ({"email": "new@example.com"}, "email"),
    ({"address": {"country": "France"}}, "address.country"),
    ({"location": {"lat": 95, "lon": 0}}, "location.lat"),
    ({"preferredLanguage": "french"}, "preferredLanguage"),
    ({"birthDate": "2031-01-01"}, "birthDate"),
    ({"role": 2}, "role"),
    ({"firstName": "x" * 81}, "firstName"),
])
def test_bad_profile_input_is_422_naming_the_field_and_writes_nothing(client, container, me, body, field):
    before = container.store.for_brand(BRAND).get(repository.MEMBERS, "m1")
    response = client.patch(ME, headers=me, json={"alias": "changed", **body})
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]
    assert container.store.for_brand(BRAND).get(repository.MEMBERS, "m1")["_etag"] == before["_etag"]


def test_a_token_of_another_brand_answers_404(client, container, me):
    stranger = add_member(container, brand_id=OTHER, member_id="m9")
    assert client.get(ME, headers=app_headers(container, stranger, brand_id=OTHER)).status_code == 404
    assert client.get(f"/api/v1/app/{OTHER}/me", headers=app_headers(container, stranger, OTHER)).status_code == 200


def test_a_member_sees_only_their_own_data(client, container, me):
    add_member(container, member_id="m2", first_name="Bob")
    assert client.get(ME, headers=me).json()["id"] == "m1"
    client.patch(ME, headers=me, json={"alias": "ana"})
    assert repository.get_member(store=container.store.for_brand(BRAND), member_id="m2")[0].alias is None


def relative(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_photo_upload_serves_the_bytes_through_a_short_lived_link(client, container, clock, me):
    response = client.put(f"{ME}/photo", headers={**me, "Content-Type": "image/png"}, content=PNG)
    assert response.status_code == 200, response.text
    url = response.json()["photoUrl"]
    served = client.get(relative(url))
    assert served.status_code == 200 and served.content == PNG
    assert served.headers["content-type"] == "image/png"
    [blob] = container.blobs.list(CONTAINER_UGC, prefix=f"{BRAND}/members/m1/")
    assert blob.name.startswith(f"{BRAND}/members/m1/photo-")

    clock.advance(timedelta(minutes=16))
    assert client.get(relative(url)).status_code == 404  # the link has expired
    fresh = client.get(ME, headers=app_headers(container, add_member_ref(container))).json()["photoUrl"]
    assert client.get(relative(fresh)).content == PNG


def add_member_ref(container) -> Member:
    return repository.get_member(store=container.store.for_brand(BRAND), member_id="m1")[0]


def test_a_new_photo_replaces_the_file_and_delete_removes_it(client, container, me):
    client.put(f"{ME}/photo", headers={**me, "Content-Type": "image/jpeg"}, content=JPEG)
    first = container.blobs.list(CONTAINER_UGC, prefix=f"{BRAND}/members/m1/")
    response = client.put(f"{ME}/photo", headers={**me, "Content-Type": "image/webp"}, content=WEBP)
    assert response.status_code == 200
    second = container.blobs.list(CONTAINER_UGC, prefix=f"{BRAND}/members/m1/")
    assert len(first) == len(second) == 1 and first[0].name != second[0].name

    assert client.delete(f"{ME}/photo", headers=me).status_code == 204
    assert container.blobs.list(CONTAINER_UGC, prefix=f"{BRAND}/members/m1/") == []
    assert client.get(ME, headers=me).json()["photoUrl"] is None
    assert client.delete(f"{ME}/photo", headers=me).status_code == 204  # nothing to delete is fine


@pytest.mark.parametrize(("content_type", "data", "status"), [
    ("image/gif", b"GIF89a" + b"\x00" * 50, 415),
    ("text/html", b"<script>alert(1)</script>", 415),
    ("image/png", JPEG, 422),  # the header says PNG, the bytes are a JPEG
    ("image/jpeg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", 422),
    ("image/jpeg", b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024), 413),
])
def test_photos_are_checked_by_type_bytes_and_size(client, container, me, content_type, data, status):
    response = client.put(f"{ME}/photo", headers={**me, "Content-Type": content_type}, content=data)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert container.blobs.list(CONTAINER_UGC, prefix=f"{BRAND}/") == []
    assert add_member_ref(container).photo_blob is None


def test_availability_expires_into_offline_unless_renewed(client, container, clock, me):
    me = app_headers(container, add_member_ref(container), ttl=timedelta(hours=1))
    body = client.put(f"{ME}/availability", headers=me, json={"availability": "online"}).json()
    assert body["availability"] == "online" and body["availabilityUntil"] == "2030-01-01T09:15:00Z"
    clock.advance(timedelta(minutes=10))
    client.put(f"{ME}/availability", headers=me, json={"availability": "away"})
    clock.advance(timedelta(minutes=10))
    assert client.get(ME, headers=me).json()["availability"] == "away"
    clock.advance(timedelta(minutes=6))
    assert client.get(ME, headers=me).json()["availability"] == "offline"
    assert client.put(f"{ME}/availability", headers=me, json={"availability": "busy"}).status_code == 422
