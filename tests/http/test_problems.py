"""Every error is application/problem+json with a stable type, and carries the request id."""

from __future__ import annotations

from fastapi import APIRouter

PROBLEM = "application/problem+json"


def test_unknown_route_is_a_problem(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"].endswith("/not-found")
    assert body["status"] == 404 and body["instance"] == "/api/v1/nothing-here"
    assert body["requestId"] == response.headers["X-Request-ID"]


def test_wrong_method_is_a_problem(client):
    response = client.delete("/api/v1/health")
    assert response.status_code == 405
    assert response.json()["type"].endswith("/method-not-allowed")


def test_malformed_json_names_the_body(client, manager_token):
    response = client.post("/api/v1/manager/brands", content=b"{not json", headers={
        **manager_token("operator"), "Content-Type": "application/json"})
    assert response.status_code == 400  # was 422 "Invalid value for: 1": malformed JSON is a 400 (issue 11)
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == "The body is not valid JSON"


def test_missing_field_is_named(client, manager_token):
    response = client.post("/api/v1/manager/brands", json={"id": "acme"}, headers=manager_token("operator"))
    assert response.status_code == 422
    body = response.json()
    assert body["errors"] == [{"field": "name", "message": "Field required"}]
    assert "name" in body["detail"]


def test_a_sane_request_id_is_kept_and_a_bad_one_replaced(client):
    kept = client.get("/api/v1/health", headers={"X-Request-ID": "abc12345-trace"})
    assert kept.headers["X-Request-ID"] == "abc12345-trace"
    replaced = client.get("/api/v1/health", headers={"X-Request-ID": "<script>"})
    assert replaced.headers["X-Request-ID"] != "<script>"


def test_an_unexpected_error_is_a_500_problem_without_internals(container):
    from fastapi.testclient import TestClient

    from functions.http_api.app import create_app

    app = create_app(container.settings)
    router = APIRouter()

    @router.get("/api/v1/boom")
    def boom():
        raise RuntimeError("secret internals jane@example.com")

    app.api.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert "internals" not in response.text and "jane" not in response.text
    assert response.json()["requestId"]
