"""An external user's GDPR rights through the widget: export of their data, erasure confirmed in the widget."""

from __future__ import annotations

import pytest

from tests.gdpr import test_rights_api as _api
from tests.gdpr.test_rights_api import BRAND, OTHER, relative
from tests.identity.test_profile_api import make_brands

gdpr_client = _api.gdpr_client  # the shared fixture

WIDGET = f"/api/v1/widget/{BRAND}"
ACCOUNT = {"acceptWidgetPolicy": True, "widgetPolicyVersion": "wp-1", "acceptServiceTerms": True,
           "serviceTermsVersion": "svc-3", "firstName": "Zelda", "emailTmp": "zelda.q@example.com",
           "emailTmpPurpose": "conversation_notification"}


@pytest.fixture
def visitors(gdpr_client, container, manager_token):
    make_brands(gdpr_client, manager_token, BRAND, OTHER)

    def open_account(**changes):
        session = gdpr_client.post(f"{WIDGET}/visitors", json={**ACCOUNT, **changes}).json()
        return session["visitor"]["id"], {"Authorization": f"Bearer {session['accessToken']}"}

    return open_account


def test_a_visitor_exports_their_data_and_nothing_of_another_visitor(gdpr_client, container, visitors):
    visitor_id, headers = visitors()
    other_id, _ = visitors(firstName="Yorick", emailTmp="yorick.p@example.com")
    response = gdpr_client.post(f"{WIDGET}/gdpr/requests", headers=headers, json={"kind": "access"})
    assert response.status_code == 201, response.text
    request = response.json()
    assert request["state"] == "done" and request["confirmationToken"] is None
    served = gdpr_client.get(relative(request["downloadUrl"]))
    export = served.json()
    assert export["subject"] == {"kind": "visitor", "id": visitor_id}
    assert (export["visitor"]["firstName"], export["visitor"]["emailTmp"]) == ("Zelda", "zelda.q@example.com")
    assert export["consents"]["serviceTerms"]["version"] == "svc-3"
    for clue in (other_id, "Yorick", "yorick.p@example.com"):
        assert clue not in served.text
    listed = gdpr_client.get(f"{WIDGET}/gdpr/requests", headers=headers).json()["items"]
    assert [item["id"] for item in listed] == [request["id"]]


def test_a_visitor_erasure_needs_its_single_use_confirmation(gdpr_client, container, visitors):
    visitor_id, headers = visitors()
    other_id, other_headers = visitors(firstName="Yorick", emailTmp="yorick.p@example.com")
    request = gdpr_client.post(f"{WIDGET}/gdpr/requests", headers=headers, json={"kind": "erasure"}).json()
    assert request["state"] == "identity_verified" and request["awaitingConfirmation"] is True
    token = request["confirmationToken"]
    assert gdpr_client.get(f"{WIDGET}/gdpr/requests/{request['id']}", headers=other_headers).status_code == 404
    stolen = gdpr_client.post(f"{WIDGET}/gdpr/erasure/confirm", headers=other_headers, json={"token": token})
    assert stolen.status_code == 422  # another visitor cannot confirm it
    assert container.store.for_brand(BRAND).get("visitors", other_id)["status"] == "active"

    confirmed = gdpr_client.post(f"{WIDGET}/gdpr/erasure/confirm", headers=headers, json={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["state"] == "done"
    erased = container.store.for_brand(BRAND).get("visitors", visitor_id)
    assert erased["status"] == "erased" and erased["firstName"] is None and erased["emailTmp"] is None
    assert gdpr_client.get(f"{WIDGET}/gdpr/requests", headers=headers).status_code == 401  # account gone
    assert container.store.for_brand(BRAND).get("visitors", other_id)["firstName"] == "Yorick"


def test_a_visitor_cannot_send_member_only_details(gdpr_client, visitors):
    _, headers = visitors()
    response = gdpr_client.post(f"{WIDGET}/gdpr/requests", headers=headers,
                                json={"kind": "rectification", "changes": {"lastName": "Q"}})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "changes"
