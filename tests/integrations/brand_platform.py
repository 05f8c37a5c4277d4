"""A brand platform as a test sees it: brands made through the Manager API, requests signed the documented way."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.integrations.assertions import sign_assertion
from shared.integrations.signing import signed_headers

PROBLEM = "application/problem+json"
TERMS = {"termsAcceptedAt": "2029-12-31T10:00:00Z", "termsVersion": "2029-06"}


@dataclass(frozen=True)
class Key:
    brand_id: str
    kid: str
    secret: str


def create_brand(client, manager_token, brand_id: str = "acme", **settings: Any) -> Key:
    """Create a brand as the operator; its first integration key (the secret is shown only here)."""
    response = client.post("/api/v1/manager/brands", json={"id": brand_id, "name": brand_id.title(), **settings},
                           headers=manager_token("operator"))
    assert response.status_code == 201, response.text
    key = response.json()["integrationKey"]
    return Key(brand_id=brand_id, kid=key["kid"], secret=key["secret"])


def signed_call(client, method: str, path: str, *, key: Key, now: datetime, body: Any = None,
                signed_path: str | None = None, signed_body: bytes | None = None, secret: str | None = None):
    """Send a request signed with `key` at `now`; the signed_* overrides forge a mismatch on purpose."""
    raw = b"" if body is None else json.dumps(body).encode()
    headers = signed_headers(kid=key.kid, secret=secret or key.secret, method=method, path=signed_path or path,
                             body=raw if signed_body is None else signed_body, now=now)
    if body is not None:
        headers["Content-Type"] = "application/json"
    return client.request(method, path, content=raw, headers=headers)


def sso_path(brand_id: str) -> str:
    return f"/api/v1/integrations/{brand_id}/sso/members"


def sync_member(client, key: Key, now: datetime, **fields: Any):
    """POST an SSO member sync signed by the brand platform."""
    return signed_call(client, "POST", sso_path(key.brand_id), key=key, now=now, body=fields)


def assertion(key: Key, subject: str, now: datetime, *, ttl: timedelta = timedelta(minutes=2), **claims: Any) -> str:
    """A brand-signed assertion (JWT) as the brand platform makes it."""
    return sign_assertion(kid=key.kid, secret=key.secret, brand_id=key.brand_id, subject=subject, now=now, ttl=ttl,
                          claims=claims)


def problem_type(response) -> str:
    assert response.headers["content-type"] == PROBLEM, response.text
    return response.json()["type"].rsplit("/", 1)[-1]
