"""Widget visitors: nothing kept before the Widget Policy, personal data only under the service terms, clients merge."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.identity import repository
from shared.identity.visitors import CLIENT_KEY
from tests.integrations.brand_platform import assertion, create_brand, problem_type

POLICY = {"acceptWidgetPolicy": True, "widgetPolicyVersion": "2030-01"}
SERVICE_TERMS = {"acceptServiceTerms": True, "serviceTermsVersion": "svc-3"}


@pytest.fixture
def acme(client, manager_token):
    return create_brand(client, manager_token, "acme")


@pytest.fixture
def globex(client, manager_token):
    return create_brand(client, manager_token, "globex")


def visitors_of(container, brand="acme"):
    return container.store.for_brand(brand).query_all("visitors")


def open_account(client, brand="acme", **body):
    return client.post(f"/api/v1/widget/{brand}/visitors", json=body)


def bearer(session):
    return {"Authorization": f"Bearer {session['accessToken']}"}


def me(client, session, brand="acme"):
    return client.get(f"/api/v1/widget/{brand}/visitors/me", headers=bearer(session))


def fields(response):
    return [error["field"] for error in response.json()["errors"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "acceptWidgetPolicy"),
        ({"acceptWidgetPolicy": False, "widgetPolicyVersion": "2030-01"}, "acceptWidgetPolicy"),
        ({"acceptWidgetPolicy": True}, "widgetPolicyVersion"),
        ({"firstName": "Ann", "emailTmp": "ann@example.com", **SERVICE_TERMS}, "acceptWidgetPolicy"),
    ],
)
def test_without_the_widget_policy_nothing_is_kept(client, container, acme, body, field):
    response = open_account(client, **body)
    assert response.status_code == 422
    assert field in fields(response)
    # Affiliation-only visitors: no document at all, so never a name or an email.
    assert visitors_of(container) == []


def test_accepting_the_policy_opens_a_temporary_account_with_a_widget_token(client, clock, container, acme):
    response = open_account(client, **POLICY)
    assert response.status_code == 201, response.text
    session = response.json()
    assert session["expiresIn"] == 24 * 3600
    visitor = session["visitor"]
    assert visitor["role"] == 8 and visitor["status"] == "active"
    assert visitor["widgetPolicy"]["version"] == "2030-01"
    assert visitor["serviceTerms"] is None and visitor["firstName"] is None and visitor["emailTmp"] is None
    principal = container.tokens.verify(session["accessToken"], audience="widget", now=clock.now())
    assert (principal.subject, principal.brand_id, principal.role) == (visitor["id"], "acme", 8)
    assert container.tokens.verify(session["accessToken"], audience="widget",
                                   now=clock.now() + timedelta(hours=23, minutes=59))
    [doc] = visitors_of(container)
    assert doc["lastInteractionAt"] == "2030-01-01T09:00:00Z"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"emailTmp": "ann@example.com"}, "emailTmp"),
        ({"firstName": "Ann"}, "firstName"),
        ({"emailTmp": "ann@example.com", "acceptServiceTerms": False}, "emailTmp"),
        ({"acceptServiceTerms": True}, "serviceTermsVersion"),
        ({"emailTmp": "ann@example.com", **SERVICE_TERMS, "emailTmpPurpose": "newsletter"}, "emailTmpPurpose"),
        ({"emailTmp": "not an email", **SERVICE_TERMS}, "emailTmp"),
        ({"email": "ann@example.com", **SERVICE_TERMS}, "email"),
    ],
)
def test_personal_data_needs_the_service_terms_and_an_allowed_purpose(client, container, acme, extra, field):
    response = open_account(client, **POLICY, **extra)
    assert response.status_code == 422
    assert field in fields(response)
    assert visitors_of(container) == []


def test_with_the_service_terms_the_email_goes_to_email_tmp_only(client, container, acme):
    response = open_account(client, **POLICY, **SERVICE_TERMS, firstName="Ann", emailTmp="Ann@Example.com",
                            emailTmpPurpose="conversation_notification")
    assert response.status_code == 201, response.text
    [doc] = visitors_of(container)
    assert doc["emailTmp"] == "Ann@Example.com"
    assert doc["emailTmpHash"] == container.hasher("acme")("email", "ann@example.com")
    assert "email" not in doc
    assert doc["serviceTerms"]["version"] == "svc-3" and doc["firstName"] == "Ann"


def test_service_terms_accepted_later_then_withdrawn(client, clock, container, acme):
    session = open_account(client, **POLICY).json()
    url = "/api/v1/widget/acme/visitors/me"
    refused = client.patch(url, json={"emailTmp": "ann@example.com"}, headers=bearer(session))
    assert refused.status_code == 422 and fields(refused) == ["emailTmp"]
    clock.advance(timedelta(hours=1))
    accepted = client.patch(url, json={**SERVICE_TERMS, "firstName": "Ann", "emailTmp": "ann@example.com"},
                            headers=bearer(session))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["serviceTerms"]["acceptedAt"] == "2030-01-01T10:00:00Z"
    # Once accepted, a later call may change the data without repeating the acceptance.
    renamed = client.patch(url, json={"firstName": "Anna"}, headers=bearer(session))
    assert renamed.json()["firstName"] == "Anna" and renamed.json()["emailTmp"] == "ann@example.com"
    withdrawn = client.patch(url, json={"acceptServiceTerms": False}, headers=bearer(session))
    assert withdrawn.status_code == 200
    body = withdrawn.json()
    assert body["serviceTerms"] is None and body["firstName"] is None and body["emailTmp"] is None
    [doc] = visitors_of(container)
    assert doc["emailTmpHash"] is None


def test_every_interaction_moves_last_interaction_at(client, clock, container, acme):
    session = open_account(client, **POLICY).json()
    clock.advance(timedelta(hours=23))
    response = me(client, session)
    assert response.status_code == 200
    assert response.json()["lastInteractionAt"] == "2030-01-02T08:00:00Z"
    assert visitors_of(container)[0]["lastInteractionAt"] == "2030-01-02T08:00:00Z"
    # After 24 hours the widget token is over: the widget opens a new account (the policy again).
    clock.advance(timedelta(hours=2))
    assert me(client, session).status_code == 401


def test_a_widget_token_of_one_brand_is_not_found_on_another(client, container, acme, globex):
    session = open_account(client, "acme", **POLICY).json()
    assert me(client, session, brand="globex").status_code == 404
    response = client.patch("/api/v1/widget/globex/visitors/me", json=SERVICE_TERMS, headers=bearer(session))
    assert response.status_code == 404
    assert visitors_of(container, "globex") == []


def test_an_unknown_brand_opens_no_account(client, container):
    assert open_account(client, "nowhere", **POLICY).status_code == 404


# --- client recognition ------------------------------------------------------------------------------------------

def recognise(client, session, token, brand="acme"):
    return client.post(f"/api/v1/widget/{brand}/visitors/me/client", json={"assertion": token},
                       headers=bearer(session))


def test_a_recognised_visitor_becomes_the_client_of_that_customer_id(client, clock, container, acme):
    session = open_account(client, **POLICY, **SERVICE_TERMS).json()
    response = recognise(client, session, assertion(acme, "C-1001", clock.now(), firstName="Ann",
                                                    email="ann@example.com"))
    assert response.status_code == 200, response.text
    body = response.json()
    client_id = body["visitor"]["id"]
    assert client_id == session["visitor"]["id"]
    assert body["visitor"]["role"] == 7
    assert (body["visitor"]["firstName"], body["visitor"]["emailTmp"]) == ("Ann", "ann@example.com")
    principal = container.tokens.verify(body["accessToken"], audience="widget", now=clock.now())
    assert (principal.subject, principal.role) == (client_id, 7)
    store = container.store.for_brand("acme")
    customer_hash = container.hasher("acme")("customer_id", "C-1001")
    assert repository.owner_of(store=store, kind=CLIENT_KEY, hashed=customer_hash) == client_id
    [doc] = visitors_of(container)
    assert doc["customerIdHash"] == customer_hash and "C-1001" not in str(doc)


def test_without_service_terms_the_brand_sent_name_and_email_are_not_kept(client, clock, container, acme):
    session = open_account(client, **POLICY).json()
    response = recognise(client, session, assertion(acme, "C-1001", clock.now(), firstName="Ann",
                                                    email="ann@example.com"))
    assert response.status_code == 200
    assert response.json()["visitor"]["firstName"] is None and response.json()["visitor"]["emailTmp"] is None


def test_a_temporary_account_merges_into_the_existing_client(client, clock, container, acme):
    first = open_account(client, **POLICY, **SERVICE_TERMS, emailTmp="client@example.com").json()
    client_id = recognise(client, first, assertion(acme, "C-1001", clock.now())).json()["visitor"]["id"]

    clock.advance(timedelta(days=2))
    second = open_account(client, **{**POLICY, "widgetPolicyVersion": "2030-02"}, **SERVICE_TERMS, firstName="Bob",
                          emailTmp="bob@example.com").json()
    response = recognise(client, second, assertion(acme, "C-1001", clock.now()))
    assert response.status_code == 200, response.text
    merged = response.json()
    assert merged["visitor"]["id"] == client_id and merged["visitor"]["role"] == 7
    # The client's own email stays; what it lacked (a first name) comes over; the latest policy stands.
    assert merged["visitor"]["emailTmp"] == "client@example.com"
    assert merged["visitor"]["firstName"] == "Bob"
    assert merged["visitor"]["widgetPolicy"]["version"] == "2030-02"
    assert container.tokens.verify(merged["accessToken"], audience="widget", now=clock.now()).subject == client_id

    temporary, _ = repository.get_visitor(store=container.store.for_brand("acme"), visitor_id=second["visitor"]["id"])
    assert (temporary.status, temporary.merged_into) == ("merged", client_id)
    assert temporary.first_name is None and temporary.email_tmp is None and temporary.email_tmp_hash is None
    # The temporary account's token is over; the client's works.
    assert me(client, second).status_code == 401
    assert me(client, merged).json()["id"] == client_id


def test_a_client_session_cannot_become_another_customer(client, clock, acme):
    session = open_account(client, **POLICY).json()
    became = recognise(client, session, assertion(acme, "C-1", clock.now())).json()
    other = recognise(client, became, assertion(acme, "C-2", clock.now()))
    assert other.status_code == 409
    same = recognise(client, became, assertion(acme, "C-1", clock.now()))
    assert same.status_code == 200 and same.json()["visitor"]["id"] == session["visitor"]["id"]


@pytest.mark.parametrize(
    ("case", "problem"),
    [("reused jti", "sso-assertion-replayed"), ("other brand's key", "integration-unknown-key"),
     ("expired", "sso-assertion-expired")],
)
def test_client_assertions_that_are_refused(client, clock, container, acme, globex, case, problem):
    session = open_account(client, **POLICY).json()
    now = clock.now()
    if case == "reused jti":
        token = assertion(acme, "C-1", now)
        other = open_account(client, **POLICY).json()
        assert recognise(client, other, token).status_code == 200
    elif case == "other brand's key":
        token = assertion(globex, "C-1", now)
    else:
        token = assertion(acme, "C-1", now - timedelta(minutes=10))
    response = recognise(client, session, token)
    assert response.status_code == 401
    assert problem_type(response) == problem
    visitor, _ = repository.get_visitor(store=container.store.for_brand("acme"), visitor_id=session["visitor"]["id"])
    assert visitor.role == 8


def test_a_token_for_an_account_that_does_not_exist_is_refused(client, clock, container, acme):
    token = container.tokens.issue(subject="ghost", audience="widget", brand_id="acme", now=clock.now(),
                                   ttl=timedelta(hours=1), role=8)
    assert me(client, {"accessToken": token}).status_code == 401
