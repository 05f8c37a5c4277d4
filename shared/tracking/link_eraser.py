"""A member's share links when the member is erased: disabled, so their codes lead to the brand's home page.

The link documents stay (ids, source, target: no personal data) so the brand's statistics keep
their history; what stops is the redirect to the member's target and the counting of clicks.
"""

from __future__ import annotations

from shared.gdpr.erasure import ContentEraser, ContentItem, ErasureContext
from shared.ports.store import Filter
from shared.tracking import links


def _find(ctx: ErasureContext) -> list[ContentItem]:
    docs = ctx.store.query_all(links.CONTAINER, filters=[Filter("memberId", "=", ctx.subject_id)], fields=("status",))
    return [ContentItem(id=doc["id"]) for doc in docs if doc.get("status") != "disabled"]


def _erase(ctx: ErasureContext, item: ContentItem) -> None:
    # The code documents live under the platform scope.
    links.set_status(store=ctx.store, platform=ctx.store.platform(), member_id=ctx.subject_id, link_id=item.id,
                     status="disabled", now=ctx.now)


ERASER = ContentEraser(content_type="share_links", find=_find, erase=_erase)
