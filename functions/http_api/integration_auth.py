"""Signed brand-platform requests: the dependency `access("integration")` adds to a route.

It reads the raw body (Starlette caches it, so the route still parses its JSON), verifies the
`X-Popsell-*` headers against the keys of the brand in the path (see
`shared.integrations.signing`) and accepts each signature once. A route that needs the verified
brand declares `call: SignedBrand`; FastAPI runs the dependency once per request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from functions.http_api.deps import BrandInPath, ContainerDep
from shared.integrations import calls, signing


def _signed_path(request: Request) -> str:
    """The path as signed: routed (percent-decoded) path, plus "?query" exactly as sent."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    return request.url.path + (f"?{query}" if query else "")


async def signed_brand_request(brand_id: BrandInPath, request: Request,
                               container: ContainerDep) -> calls.AuthenticatedCall:
    """Refuse any call not signed by one of the path brand's integration keys (401 with a stable type)."""
    body = await request.body()
    headers = request.headers
    # The store is synchronous: keep it off the event loop.
    return await run_in_threadpool(
        calls.authenticate_request,
        store=container.store,
        brand_id=brand_id,
        kid=headers.get(signing.HEADER_KEY_ID),
        timestamp=headers.get(signing.HEADER_TIMESTAMP),
        signature=headers.get(signing.HEADER_SIGNATURE),
        method=request.method,
        path=_signed_path(request),
        body=body,
        now=container.clock.now(),
    )


SignedBrand = Annotated[calls.AuthenticatedCall, Depends(signed_brand_request)]
