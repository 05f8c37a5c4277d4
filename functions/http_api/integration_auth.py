"""Signed brand-platform requests: the dependency `access("integration")` adds to a route.

It reads the raw body (Starlette caches it, so the route still parses its JSON), verifies the
`X-Popsell-*` headers against the keys of the brand in the path (see
`shared.integrations.signing`) and accepts each signature once. A route that needs the verified
brand declares `call: SignedBrand`; FastAPI runs the dependency once per request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader
from starlette.concurrency import run_in_threadpool

from functions.http_api.deps import BrandInPath, ContainerDep
from shared.integrations import calls, signing

KEY_ID_SCHEME, TIMESTAMP_SCHEME, SIGNATURE_SCHEME = "PlatformKeyId", "PlatformTimestamp", "PlatformSignature"
SIGNED_SCHEMES = (KEY_ID_SCHEME, TIMESTAMP_SCHEME, SIGNATURE_SCHEME)


def _signed_path(request: Request) -> str:
    """The path as signed: routed (percent-decoded) path, plus "?query" exactly as sent."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    return request.url.path + (f"?{query}" if query else "")


# The three headers, as security schemes of the OpenAPI document (one requirement naming all three,
# see app.py): a client generator then knows every signed operation needs them.
_KEY_ID = APIKeyHeader(name=signing.HEADER_KEY_ID, scheme_name=KEY_ID_SCHEME, auto_error=False,
                       description="The kid of the brand's integration key that signed the request")
_TIMESTAMP = APIKeyHeader(name=signing.HEADER_TIMESTAMP, scheme_name=TIMESTAMP_SCHEME, auto_error=False,
                          description="Unix seconds (UTC) when the request was signed (±5 minutes)")
_SIGNATURE = APIKeyHeader(name=signing.HEADER_SIGNATURE, scheme_name=SIGNATURE_SCHEME, auto_error=False,
                          description='hex HMAC-SHA256 of "<timestamp>.<METHOD>.<path>.<hex sha256(body)>"')


async def signed_brand_request(
    brand_id: BrandInPath,
    request: Request,
    container: ContainerDep,
    kid: Annotated[str | None, Depends(_KEY_ID)],
    timestamp: Annotated[str | None, Depends(_TIMESTAMP)],
    signature: Annotated[str | None, Depends(_SIGNATURE)],
) -> calls.AuthenticatedCall:
    """Refuse any call not signed by one of the path brand's integration keys (401 with a stable type)."""
    body = await request.body()
    # The store is synchronous: keep it off the event loop.
    return await run_in_threadpool(
        calls.authenticate_request,
        store=container.store,
        brand_id=brand_id,
        kid=kid,
        timestamp=timestamp,
        signature=signature,
        method=request.method,
        path=_signed_path(request),
        body=body,
        now=container.clock.now(),
    )


SignedBrand = Annotated[calls.AuthenticatedCall, Depends(signed_brand_request)]
