"""`/t/{code}`: the short link redirect (public; never an error page). See docs/tracking-links.md."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from functions.http_api.access import access
from functions.http_api.problems import problem_responses
from shared.bootstrap import get_container
from shared.tracking import redirect

router = APIRouter(tags=["tracking: redirect"])

_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


_ROUTE = {
    "status_code": 302, "response_class": Response,
    "responses": {302: {"description": "To the link's target (with the attribution reference when counted)"},
                  **problem_responses()},
    **access("public"),
}


@router.get("/t/{code}", operation_id="follow_link", **_ROUTE)
@router.head("/t/{code}", operation_id="follow_link_head", **_ROUTE)
async def follow_link(code: str, request: Request) -> Response:
    """Redirect a share link to its target and count the click (bots are redirected, not counted)."""
    # Async, and the composition root read directly: a warm click makes no thread hop and no store
    # read; only a cache miss (a store read) or an immediate send goes to a worker thread.
    redirector = redirect.for_container(get_container())
    if not redirector.warm(code):
        await run_in_threadpool(redirector.load, code)
    decision = redirector.decide(
        code, method=request.method, user_agent=request.headers.get("user-agent"),
        client_ip=request.client.host if request.client else None, via=request.query_params.get("via"),
        referer=request.headers.get("referer"), origin=request.headers.get("origin"),
    )
    if decision.message is not None:
        if redirector.outbox.immediate:
            await run_in_threadpool(redirector.enqueue, decision)
        else:
            redirector.enqueue(decision)
    return Response(status_code=302, headers={"Location": decision.location, **_HEADERS})
