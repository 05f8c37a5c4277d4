"""Widget routes answer CORS only for the brand's own allowed origins."""

from __future__ import annotations

import pytest


@pytest.fixture
def brand(client, manager_token):
    client.post("/api/v1/manager/brands", headers=manager_token("operator"),
                json={"id": "acme", "name": "Acme", "widgetAllowedOrigins": ["https://shop.acme.com"]})
    client.post("/api/v1/manager/brands", headers=manager_token("operator"),
                json={"id": "globex", "name": "Globex", "widgetAllowedOrigins": ["https://globex.com"]})
    return "acme"


def test_an_allowed_origin_gets_cors_headers(client, brand):
    response = client.get("/api/v1/widget/acme/config", headers={"Origin": "https://shop.acme.com"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.acme.com"
    assert response.headers["Vary"] == "Origin"
    assert response.json()["name"] == "Acme"


def test_preflight_from_an_allowed_origin(client, brand):
    response = client.options("/api/v1/widget/acme/config", headers={
        "Origin": "https://shop.acme.com", "Access-Control-Request-Method": "POST"})
    assert response.status_code == 204
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_another_brands_origin_is_refused(client, brand):
    response = client.get("/api/v1/widget/acme/config", headers={"Origin": "https://globex.com"})
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = client.options("/api/v1/widget/acme/config", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 403


def test_unknown_brand_widget_config_is_404(client, brand):
    assert client.get("/api/v1/widget/nobody/config").status_code == 404


def test_non_widget_routes_get_no_cors(client, brand):
    response = client.get("/api/v1/health", headers={"Origin": "https://shop.acme.com"})
    assert "Access-Control-Allow-Origin" not in response.headers
