"""Health answers for the store and the bus; the OpenAPI document covers every route and its errors."""

from __future__ import annotations


def test_health_is_ok_on_the_embedded_default(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"store": "ok", "bus": "ok"}}


def test_health_is_503_naming_an_unreachable_store(client, container):
    def unreachable():
        raise OSError("disk gone")

    container.store.ping = unreachable
    response = client.get("/api/v1/health")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "store" in response.json()["detail"]


def test_openapi_documents_every_route_with_problem_errors(client):
    document = client.get("/api/openapi.json").json()
    paths = document["paths"]
    assert "/api/v1/health" in paths and "/api/v1/manager/brands/{brand_id}" in paths
    for path, operations in paths.items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "500" in responses, f"{method.upper()} {path} does not document its 500"
            errors = [code for code in responses if code.startswith(("4", "5"))]
            for code in errors:
                content = responses[code].get("content", {})
                assert "application/problem+json" in content, f"{method.upper()} {path} {code} is not problem+json"
    assert client.get("/api/docs").status_code == 200


def test_the_committed_openapi_document_is_current():
    import json
    from pathlib import Path

    from functions.http_api.openapi_export import document

    committed = json.loads((Path(__file__).resolve().parents[2] / "docs" / "openapi.json").read_text())
    assert committed == json.loads(json.dumps(document())), "docs/openapi.json is stale: run `make openapi`"
