"""The client's address: X-Forwarded-For under the Functions host, the socket's peer locally, read in one place.

Under `AsgiFunctionApp` the ASGI scope has no client at all: these tests go through the real
Functions entry point (`function_app.app`'s HTTP function with `azure.functions.HttpRequest`), where
every IP-based rule was silently off before the edge read the forwarded address.
"""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from functions.http_api.client_address import client_address, parse_address
from popsell.registry import queue_handlers
from shared.identity import activity
from shared.messaging import worker
from shared.ports.bus import QUEUE_TRACKING_EVENTS
from shared.privacy.hashing import EdgeIpHasher
from shared.tracking import counters
from tests.http import functions_host
from tests.identity.test_auth_support import (
    APP,
    BRAND,
    EMAIL,
    PASSWORD,
    fast_bcrypt,  # noqa: F401 - a fixture
    make_brand,
    sign_up_and_verify,
)
from tests.tracking.test_links_api import create_link

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0 Safari/537.36"
MEMBER_IP = "198.51.100.7"


def scope(forwarded: list[str] | None = None, peer: tuple[str, int] | None = None) -> dict:
    return {"headers": [(b"x-forwarded-for", value.encode()) for value in forwarded or []], "client": peer}


@pytest.mark.parametrize(("entry", "address"), [
    ("203.0.113.7", "203.0.113.7"), ("203.0.113.7:52001", "203.0.113.7"), (" 203.0.113.7 ", "203.0.113.7"),
    ("2001:db8::7", "2001:db8::7"), ("[2001:db8::7]:443", "2001:db8::7"), ("[2001:DB8:0::7]", "2001:db8::7"),
    ("unknown", None), ("", None), ("203.0.113.300", None), ("_hidden", None),
])
def test_an_entry_is_read_as_a_bare_address(entry, address):
    assert parse_address(entry) == address


def test_with_one_trusted_hop_the_rightmost_entry_is_the_client():
    # What the client wrote itself (leftmost) proves nothing: Azure's front end appended the real address.
    forged = scope(["10.0.0.1, 1.2.3.4", "203.0.113.7:50000"])
    assert client_address(forged, trusted_hops=1) == "203.0.113.7"
    assert client_address(forged, trusted_hops=2) == "1.2.3.4"


def test_fewer_entries_than_trusted_hops_take_the_leftmost_and_none_without_any():
    assert client_address(scope(["203.0.113.7"]), trusted_hops=2) == "203.0.113.7"
    assert client_address(scope([]), trusted_hops=1) is None
    assert client_address(scope(["garbage"]), trusted_hops=1) is None


def test_without_trusted_hops_the_socket_peer_is_the_client_and_the_header_is_ignored():
    assert client_address(scope(["1.2.3.4"], peer=("203.0.113.9", 1234)), trusted_hops=0) == "203.0.113.9"
    assert client_address(scope([]), trusted_hops=0) is None


def test_the_local_server_keeps_its_socket_address_whatever_the_header_says(container, caplog):
    from functions.http_api.app import create_app

    with TestClient(create_app(container.settings), client=("203.0.113.9", 40000)) as local, \
            caplog.at_level(logging.INFO, logger="popsell.access"):
        local.get("/api/v1/health", headers={"X-Forwarded-For": "1.2.3.4"})
    key = container.settings.hash_master_key
    assert f"ip={EdgeIpHasher(key)('203.0.113.9')}" in caplog.text
    assert EdgeIpHasher(key)("1.2.3.4") not in caplog.text


def test_under_the_functions_host_the_access_line_hashes_the_forwarded_address(container, caplog):
    with caplog.at_level(logging.INFO, logger="popsell.access"):
        response = functions_host.call("GET", "/api/v1/health", headers={"X-Forwarded-For": f"{MEMBER_IP}:50123"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"]
    line = caplog.text
    assert f"ip={EdgeIpHasher(container.settings.hash_master_key)(MEMBER_IP)}" in line
    assert MEMBER_IP not in line and "ip=-" not in line


@pytest.mark.usefixtures("fast_bcrypt")
def test_under_the_functions_host_a_member_clicking_their_own_link_is_a_self_click(container, client):
    """Login and click both through the host: the click comes from the address the member logged in from."""
    make_brand(container, allowedDomains=["acme.com"])
    sign_up_and_verify(client, container)
    browser = {"X-Forwarded-For": f"{MEMBER_IP}:50123", "User-Agent": BROWSER}
    login = functions_host.call("POST", f"{APP}/login", headers=browser, json_body={"email": EMAIL,
                                                                                    "password": PASSWORD})
    assert login.status_code == 200, login.get_body()
    session = json.loads(login.get_body())
    store = container.store.for_brand(BRAND)
    [print_] = store.query_all(activity.CONTAINER, pk=f"{BRAND}|{session['memberId']}")
    assert print_["ipHash"] == container.hasher(BRAND)("ip", MEMBER_IP)

    code = create_link(client, {"Authorization": f"Bearer {session['accessToken']}"}).json()["code"]
    click = functions_host.call("GET", f"/t/{code}", headers={**browser, "X-Forwarded-For": f"{MEMBER_IP}:61000"})
    assert click.status_code == 302 and "popsell_ref=" in click.headers["Location"]
    worker.process_once(container.bus, QUEUE_TRACKING_EVENTS, queue_handlers(container)[QUEUE_TRACKING_EVENTS])
    [day] = [doc for doc in store.query_all(counters.CONTAINER)
             if doc["memberId"] == session["memberId"] and doc["source"] == counters.ALL]
    assert (day["clicks"], day["rejectedClicks"]) == (0, 1)
