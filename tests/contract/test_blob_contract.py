"""One contract for the blob store port, run against the folder store and Blob Storage (Azurite)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from azure.storage.blob import UserDelegationKey
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from functions.http_api.routers.platform.files import blob_store_dependency, router
from shared.adapters.azure_blobs import AzureBlobStore
from shared.adapters.folder_blobs import FolderBlobStore
from shared.clock import SettableClock
from shared.config import Settings
from shared.errors import Conflict, DomainError, InvalidInput
from shared.ports.blobs import CONTAINER_EXPORTS, CONTAINER_JOURNAL, CONTAINER_UGC, BlobNotFound, BlobStore
from tests.fixtures.azurite_server import azurite_connection_string
from tests.races import in_parallel

BASE_URL = "http://files.test"

Fetch = Callable[[str], httpx.Response]


def _files_app(store: BlobStore) -> TestClient:
    """Only the files router, with the store injected and DomainError mapped as the real app does."""
    app = FastAPI()
    app.include_router(router)
    app.dependency_overrides[blob_store_dependency] = lambda: store

    @app.exception_handler(DomainError)
    def _domain_error(_request, exc: DomainError) -> JSONResponse:
        return JSONResponse({"type": exc.code}, status_code=exc.status)

    return TestClient(app)


@pytest.fixture(params=["folder", pytest.param("azure", marks=pytest.mark.emulator)])
def adapter(request, tmp_path, clock) -> tuple[BlobStore, Fetch]:
    """A blob store and a way to fetch its signed URLs the way a browser would."""
    if request.param == "folder":
        store = FolderBlobStore(tmp_path / "blobs", clock=clock, base_url=BASE_URL, signing_key="test-signing-key")
        client = _files_app(store)

        def fetch(url: str) -> httpx.Response:
            parts = urlsplit(url)
            assert f"{parts.scheme}://{parts.netloc}" == BASE_URL
            return client.get(urlunsplit(("", "", parts.path, parts.query, "")))

        return store, fetch
    settings = request.getfixturevalue("azurite_settings")
    store = AzureBlobStore(settings, clock=clock)
    store.ensure_containers()
    return store, lambda url: httpx.get(url, timeout=10)


@pytest.fixture
def store(adapter) -> BlobStore:
    return adapter[0]


@pytest.fixture
def fetch(adapter) -> Fetch:
    return adapter[1]


@pytest.fixture
def prefix() -> str:
    """A name prefix of its own, so tests sharing the Azurite session never see each other's blobs."""
    return f"t-{uuid.uuid4().hex[:12]}/"


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def _tampered(signature: str) -> str:
    return ("A" if signature[0] != "A" else "B") + signature[1:]


def test_put_then_get_round_trips_bytes_and_content_type(store, prefix):
    name = f"{prefix}photos/avatar.png"
    info = store.put(CONTAINER_UGC, name, b"\x89PNG-bytes", content_type="image/png")
    assert (info.name, info.size, info.content_type) == (name, 10, "image/png")
    assert store.get(CONTAINER_UGC, name) == b"\x89PNG-bytes"


def test_info_reports_size_type_and_an_aware_date(store, prefix):
    name = f"{prefix}export.json"
    store.put(CONTAINER_EXPORTS, name, b'{"a": 1}', content_type="application/json")
    info = store.info(CONTAINER_EXPORTS, name)
    assert (info.name, info.size, info.content_type) == (name, 8, "application/json")
    assert info.last_modified.tzinfo is not None


def test_overwrite_replaces_bytes_and_type(store, prefix):
    name = f"{prefix}photo"
    store.put(CONTAINER_UGC, name, b"first", content_type="image/jpeg")
    store.put(CONTAINER_UGC, name, b"second!", content_type="image/webp")
    assert store.get(CONTAINER_UGC, name) == b"second!"
    info = store.info(CONTAINER_UGC, name)
    assert (info.size, info.content_type) == (7, "image/webp")


def test_list_returns_only_names_under_the_prefix_in_name_order(store, prefix):
    for name in ("b/2.jpg", "a/1.jpg", "a/0.jpg", "c.jpg"):
        store.put(CONTAINER_UGC, prefix + name, b"x", content_type="image/jpeg")
    store.put(CONTAINER_EXPORTS, prefix + "a/other-container.json", b"{}", content_type="application/json")

    assert [i.name for i in store.list(CONTAINER_UGC, prefix=prefix + "a/")] == [prefix + "a/0.jpg", prefix + "a/1.jpg"]
    assert [i.name for i in store.list(CONTAINER_UGC, prefix=prefix)] == [
        prefix + n for n in ("a/0.jpg", "a/1.jpg", "b/2.jpg", "c.jpg")
    ]
    # A prefix is a string prefix, not only a folder: "a/1" matches "a/1.jpg".
    assert [i.name for i in store.list(CONTAINER_UGC, prefix=prefix + "a/1")] == [prefix + "a/1.jpg"]
    assert store.list(CONTAINER_UGC, prefix=prefix + "zzz") == []
    assert all(i.content_type == "image/jpeg" and i.size == 1 for i in store.list(CONTAINER_UGC, prefix=prefix))


def test_delete_removes_the_blob_and_a_second_delete_returns_false(store, prefix):
    name = f"{prefix}to-erase.jpg"
    store.put(CONTAINER_UGC, name, b"x", content_type="image/jpeg")
    assert store.delete(CONTAINER_UGC, name) is True
    assert store.delete(CONTAINER_UGC, name) is False
    assert store.list(CONTAINER_UGC, prefix=prefix) == []
    with pytest.raises(BlobNotFound):
        store.get(CONTAINER_UGC, name)


def test_missing_blob_raises_blob_not_found(store, prefix):
    with pytest.raises(BlobNotFound):
        store.get(CONTAINER_UGC, f"{prefix}never-written")
    with pytest.raises(BlobNotFound):
        store.info(CONTAINER_UGC, f"{prefix}never-written")


def test_ping_succeeds_on_a_reachable_store(store):
    store.ping()


def test_signed_url_reads_the_blob_over_http(store, fetch, prefix):
    name = f"{prefix}photos/hello world.png"
    store.put(CONTAINER_UGC, name, b"picture-bytes", content_type="image/png")
    response = fetch(store.signed_url(CONTAINER_UGC, name, expires_in=timedelta(minutes=10)))
    assert response.status_code == 200
    assert response.content == b"picture-bytes"
    assert response.headers["content-type"].startswith("image/png")


def test_expired_signed_url_is_refused(store, fetch, prefix, clock: SettableClock):
    name = f"{prefix}old.png"
    store.put(CONTAINER_UGC, name, b"secret", content_type="image/png")
    # Sign two hours ago for one minute, then bring the clock back to now: expired for both the
    # folder store (which reads the clock) and Azurite (which reads real time).
    real_now = datetime.now(UTC)
    clock.set(real_now - timedelta(hours=2))
    url = store.signed_url(CONTAINER_UGC, name, expires_in=timedelta(minutes=1))
    clock.set(real_now)
    response = fetch(url)
    assert response.status_code in (403, 404)
    assert b"secret" not in response.content


def test_tampered_signature_is_refused(store, fetch, prefix):
    name = f"{prefix}private.png"
    store.put(CONTAINER_UGC, name, b"secret", content_type="image/png")
    url = store.signed_url(CONTAINER_UGC, name, expires_in=timedelta(minutes=10))
    signature = dict(parse_qsl(urlsplit(url).query))["sig"]
    response = fetch(_with_query(url, sig=_tampered(signature)))
    assert response.status_code in (403, 404)
    assert b"secret" not in response.content


def test_signed_url_reads_only_the_blob_it_was_signed_for(store, fetch, prefix):
    store.put(CONTAINER_UGC, f"{prefix}mine.png", b"mine", content_type="image/png")
    store.put(CONTAINER_UGC, f"{prefix}theirs.png", b"theirs", content_type="image/png")
    url = store.signed_url(CONTAINER_UGC, f"{prefix}mine.png", expires_in=timedelta(minutes=10))
    response = fetch(url.replace("mine.png", "theirs.png"))
    assert response.status_code in (403, 404)
    assert b"theirs" not in response.content


# -- folder store only ---------------------------------------------------------------------------


@pytest.fixture
def folder_store(tmp_path, clock) -> FolderBlobStore:
    return FolderBlobStore(tmp_path / "blobs", clock=clock, base_url=BASE_URL + "/", signing_key="test-signing-key")


@pytest.mark.parametrize(
    "name",
    ["../escape", "a/../../escape", "/etc/passwd", "a\\b", "C:evil", "a//b", "", ".hidden", "a/./b", "a/.b", "x\x00y"],
)
def test_folder_store_refuses_names_that_could_leave_its_folder(folder_store, tmp_path, name):
    with pytest.raises(InvalidInput):
        folder_store.put(CONTAINER_UGC, name, b"x", content_type="text/plain")
    with pytest.raises(InvalidInput):
        folder_store.get(CONTAINER_UGC, name)
    with pytest.raises(InvalidInput):
        folder_store.signed_url(CONTAINER_UGC, name, expires_in=timedelta(minutes=1))
    assert not (tmp_path / "escape").exists()


@pytest.mark.parametrize("container", ["..", "../ugc", "UGC", "a", "ugc/x"])
def test_folder_store_refuses_bad_container_names(folder_store, container):
    with pytest.raises(InvalidInput):
        folder_store.put(container, "x", b"x", content_type="text/plain")


def test_folder_store_persists_across_instances(folder_store, tmp_path, clock):
    folder_store.put(CONTAINER_UGC, "b1/photo.jpg", b"kept", content_type="image/jpeg")
    reopened = FolderBlobStore(tmp_path / "blobs", clock=clock, base_url=BASE_URL, signing_key="test-signing-key")
    assert reopened.get(CONTAINER_UGC, "b1/photo.jpg") == b"kept"
    assert reopened.info(CONTAINER_UGC, "b1/photo.jpg").content_type == "image/jpeg"


def test_folder_store_dates_blobs_by_the_injected_clock(folder_store, clock):
    info = folder_store.put(CONTAINER_UGC, "dated.txt", b"x", content_type="text/plain")
    assert info.last_modified == clock.now()
    assert folder_store.info(CONTAINER_UGC, "dated.txt").last_modified == clock.now()


def test_folder_signed_url_has_the_documented_shape_and_expires_by_the_clock(folder_store, clock):
    folder_store.put(CONTAINER_UGC, "b1/p.png", b"png", content_type="image/png")
    url = folder_store.signed_url(CONTAINER_UGC, "b1/p.png", expires_in=timedelta(minutes=5))
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{BASE_URL}/api/v1/files/ugc/b1/p.png"
    assert int(query["expires"]) == int((clock.now() + timedelta(minutes=5)).timestamp())
    assert len(query["sig"]) == 64

    client = _files_app(folder_store)
    path = f"{parts.path}?{parts.query}"
    ok = client.get(path)
    assert ok.status_code == 200
    assert ok.headers["cache-control"] == "private, no-store"
    assert ok.headers["x-content-type-options"] == "nosniff"

    clock.advance(timedelta(minutes=5))
    assert client.get(path).status_code == 404


def test_folder_signed_url_refusals_look_like_a_missing_blob(folder_store):
    folder_store.put(CONTAINER_UGC, "b1/p.png", b"png", content_type="image/png")
    client = _files_app(folder_store)
    missing = client.get("/api/v1/files/ugc/b1/nothing.png?expires=99999999999&sig=" + "0" * 64)
    unsigned = client.get("/api/v1/files/ugc/b1/p.png")
    garbage = client.get("/api/v1/files/ugc/b1/p.png?expires=soon&sig=x")
    traversal = client.get("/api/v1/files/ugc/..%2F..%2Fetc%2Fpasswd?expires=1&sig=x")
    assert {r.status_code for r in (missing, unsigned, garbage, traversal)} == {404}
    assert missing.json() == unsigned.json() == garbage.json() == traversal.json()


def test_folder_delete_removes_the_content_type_sidecar(folder_store, tmp_path):
    folder_store.put(CONTAINER_UGC, "b1/p.png", b"png", content_type="image/png")
    folder_store.delete(CONTAINER_UGC, "b1/p.png")
    assert [p.name for p in (tmp_path / "blobs" / CONTAINER_UGC / "b1").iterdir()] == []


def test_files_route_serves_nothing_when_blobs_live_in_azure(clock):
    # Constructing the client opens no connection; the route must refuse before touching it.
    azure = AzureBlobStore(Settings(blob_connection_string=azurite_connection_string(9)), clock=clock)
    assert _files_app(azure).get("/api/v1/files/ugc/x.png?expires=1&sig=x").status_code == 404


def test_managed_identity_links_use_one_cached_user_delegation_key(clock, monkeypatch):
    # Azurite grants delegation keys only under OAuth over HTTPS, so the key request (the one
    # network call here) is answered locally; signing itself is the SDK's real code.
    store = AzureBlobStore(Settings(blob_connection_string=azurite_connection_string(9)), clock=clock)
    store._account_key = None  # as under managed identity: no account key to sign with
    requested: list[tuple[datetime, datetime]] = []

    def get_user_delegation_key(key_start_time, key_expiry_time):
        requested.append((key_start_time, key_expiry_time))
        key = UserDelegationKey()
        key.signed_oid, key.signed_tid = "00000000-0000-0000-0000-00000000000a", "00000000-0000-0000-0000-00000000000b"
        key.signed_start = key_start_time.strftime("%Y-%m-%dT%H:%M:%SZ")
        key.signed_expiry = key_expiry_time.strftime("%Y-%m-%dT%H:%M:%SZ")
        key.signed_service, key.signed_version = "b", "2025-01-05"
        key.value = base64.b64encode(b"k" * 32).decode()
        return key

    monkeypatch.setattr(store._service, "get_user_delegation_key", get_user_delegation_key)

    first = store.signed_url(CONTAINER_UGC, "b1/p.png", expires_in=timedelta(minutes=15))
    store.signed_url(CONTAINER_UGC, "b1/q.png", expires_in=timedelta(hours=2))
    assert len(requested) == 1
    assert requested[0] == (clock.now() - timedelta(minutes=5), clock.now() + timedelta(days=1))
    query = dict(parse_qsl(urlsplit(first).query))
    assert query["skoid"].endswith("a") and query["sp"] == "r" and query["sr"] == "b"

    # A 48-hour export link outlives the cached key: a longer key is fetched, then reused.
    store.signed_url(CONTAINER_EXPORTS, "b1/export.zip", expires_in=timedelta(hours=48))
    store.signed_url(CONTAINER_EXPORTS, "b1/export2.zip", expires_in=timedelta(hours=47))
    assert len(requested) == 2
    assert requested[1][1] == clock.now() + timedelta(hours=48)

    with pytest.raises(ValueError):
        store.signed_url(CONTAINER_EXPORTS, "b1/too-long.zip", expires_in=timedelta(days=8))


def test_folder_store_reports_a_name_that_is_also_a_folder_as_a_conflict(folder_store):
    folder_store.put(CONTAINER_UGC, "a/b", b"x", content_type="text/plain")
    with pytest.raises(Conflict):
        folder_store.put(CONTAINER_UGC, "a", b"x", content_type="text/plain")
    with pytest.raises(Conflict):
        folder_store.put(CONTAINER_UGC, "a/b/c", b"x", content_type="text/plain")
    assert folder_store.get(CONTAINER_UGC, "a/b") == b"x"


def test_create_writes_once_and_never_replaces_the_first_blob(store, prefix):
    name = f"{prefix}journal/entry.json"
    assert store.create(CONTAINER_JOURNAL, name, b'{"first": 1}', content_type="application/json") is True
    assert store.create(CONTAINER_JOURNAL, name, b'{"second": 2}', content_type="text/plain") is False
    assert store.get(CONTAINER_JOURNAL, name) == b'{"first": 1}'
    info = store.info(CONTAINER_JOURNAL, name)
    assert (info.size, info.content_type) == (12, "application/json")
    assert [i.name for i in store.list(CONTAINER_JOURNAL, prefix=prefix)] == [name]


def test_creators_at_once_have_one_winner(store, prefix):
    name = f"{prefix}journal/raced.json"
    outcomes = in_parallel(6, lambda: store.create(CONTAINER_JOURNAL, name, b"{}", content_type="application/json"))
    assert sorted(outcomes) == [False] * 5 + [True]
    assert [i.name for i in store.list(CONTAINER_JOURNAL, prefix=prefix)] == [name]
