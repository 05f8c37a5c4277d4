"""Schemathesis over every operation of the OpenAPI document (the dev-only ones aside), with real auth.

Each operation gets generated requests, valid and invalid, sent to the whole app (the edge and all
it serves) on the embedded default, as the kind of caller the operation is for: a member of an
allowed role, a visitor, a Manager user at the needed level or an operator, the brand's platform
signing with its key, or the email provider with the webhook's credentials, on a seeded world
(tests/http/world.py). The brand in the path is always the seeded one, and three times in four
every other path parameter names a real resource of it, so requests get past the first checks and
into the routes (a random id alone would only ever meet a 404). Every answer
must hold four checks: no server error, a status the document lists, the documented media type and
a body that matches the documented schema. Hypothesis is derandomized (a fixed seed) and the
number of examples bounded, so the run is the same every time and stays within a few minutes.
"""

from __future__ import annotations

import tempfile
import zlib
from pathlib import Path
from urllib.parse import unquote, urlsplit

import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from functions.http_api.app import create_app
from functions.http_api.openapi_export import document
from tests.http.world import OWNER_ROLE, World, settings_for

BRAND = "acme"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 40

DOCUMENT = document()
# Requests reach the composition root the `seeded` fixture installs; these settings only shape the app.
APP = create_app(settings_for(Path(tempfile.gettempdir()) / "popsell-fuzz-unused"))
schema = schemathesis.openapi.from_dict(DOCUMENT).exclude(path_regex=r"^/api/v1/dev/")
schema.app = APP
schema.config.generation.update(max_examples=EXAMPLES)
# A JSON Lines catalog file is bytes on the wire, as any binary body (any bytes: the route must refuse junk).
schemathesis.serializer.alias(["application/x-ndjson", "application/jsonl"], "application/octet-stream")


class _SignedByThePlatform(requests.auth.AuthBase):
    """Signs the request exactly as it is sent (method, routed path, query, body)."""

    def __init__(self, world: World) -> None:
        self.world = world

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        parts = urlsplit(request.url)
        path = unquote(parts.path) + (f"?{parts.query}" if parts.query else "")
        body = request.body or b""
        request.headers.update(self.world.signed(BRAND, request.method, path,
                                                 body if isinstance(body, bytes) else body.encode()))
        return request


def _caller(world: World, case) -> tuple[dict[str, str], requests.Session | None]:
    """Headers (and a signing session) for the kind of caller the operation is for."""
    note = DOCUMENT["paths"][case.operation.path][case.operation.method.lower()]["x-access"]
    audience = note["audience"]
    if audience == "member":
        return world.member(BRAND, (note.get("roles") or [OWNER_ROLE])[0]), None
    if audience == "visitor":
        return world.visitor(BRAND), None
    if audience == "contact":
        return world.contact(BRAND), None
    if audience == "operator" or (audience == "manager" and "{brand_id}" not in case.operation.path):
        return world.operator(), None
    if audience == "manager":
        return world.manager(BRAND, "admin"), None
    if audience == "webhook":
        return world.webhook(), None
    if audience == "integration":
        session = requests.Session()
        session.auth = _SignedByThePlatform(world)
        return {}, session
    return {}, None


def _real_ids(world: World, case) -> None:
    """The seeded brand in the path, and most of the time a real id of it for every other parameter."""
    known = world.brands[BRAND]
    ids = known.ids_for(case.operation.path)
    for name, value in (case.path_parameters or {}).items():
        if name == "brand_id":
            case.path_parameters[name] = BRAND
        elif name in ids and zlib.crc32(repr(value).encode()) % 4:  # 3 in 4, the same on every run
            case.path_parameters[name] = ids[name]


@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case, seeded):
    _real_ids(seeded, case)
    headers, session = _caller(seeded, case)
    response = case.call(headers=headers, session=session)
    case.validate_response(response, checks=CHECKS, headers=headers)
