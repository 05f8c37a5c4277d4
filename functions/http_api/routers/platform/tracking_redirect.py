"""`/t/{code}`: the short link redirect (public; never an error page). See docs/tracking-links.md.

The edge serves it as plain ASGI ahead of the framework (functions/http_api/lean_redirect.py);
this route documents it in the OpenAPI document and answers the same way when the FastAPI app is
called directly.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from functions.http_api import lean_redirect
from functions.http_api.access import access
from functions.http_api.deps import ClientIp
from functions.http_api.problems import problem_responses
from popsell.bootstrap import get_container

router = APIRouter(tags=["tracking: redirect"])

_ROUTE = {
    "status_code": 302, "response_class": Response,
    "responses": {302: {"description": "To the link's target (with the attribution reference when counted)"},
                  **problem_responses()},
    **access("public"),
}


@router.get("/t/{code}", operation_id="follow_link", **_ROUTE)
@router.head("/t/{code}", operation_id="follow_link_head", **_ROUTE)
async def follow_link(code: str, request: Request, ip: ClientIp) -> Response:
    """Redirect a share link to its target and count the click (bots are redirected, not counted)."""
    decision = await lean_redirect.decide(
        get_container(), code, method=request.method, client_ip=ip,
        facts=lean_redirect.request_facts(request.scope))
    return Response(status_code=302, headers={"Location": decision.location,
                                              **{k.decode(): v.decode() for k, v in lean_redirect.HEADERS}})
