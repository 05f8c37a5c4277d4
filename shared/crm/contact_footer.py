"""The links every email to a contact carries: their rights page and, from a member, the unsubscribe link.

Contacts never have App access, yet they have the same rights as members (GDPR articles 15-21):
every email a contact receives (an invitation, a campaign, a capture form's confirmation, what the
rights page itself sends) names the page where they exercise them, and an email a member's action
sends also carries the one-click unsubscribe link. The layout renders both whenever `rights_url` is
in the data (`templates/_layout/<locale>/contact_footer.*`), and the email pipeline refuses an email
addressed to a contact without it (shared.emails.service.prepare_email): `data(...)` is the one way
to fill them.
"""

from __future__ import annotations

from shared.config import Settings
from shared.crm import unsubscribe


def rights_page_url(settings: Settings, brand_id: str) -> str:
    """The brand's public rights page for contacts (the page asks for an address and sends a proof link)."""
    return f"{settings.public_base_url.rstrip('/')}/contacts/{brand_id}/rights"


def data(settings: Settings, *, brand_id: str, contact_id: str | None = None,
         member_id: str | None = None) -> dict[str, str]:
    """The footer's template data: `rights_url`, and `unsubscribe_url` for an email about one member's contact."""
    links = {"rights_url": rights_page_url(settings, brand_id)}
    if contact_id and member_id:
        token = unsubscribe.make_token(settings, brand_id=brand_id, contact_id=contact_id, member_id=member_id)
        links["unsubscribe_url"] = unsubscribe.link(settings, brand_id, token)
    return links


def unsubscribe_headers(links: dict[str, str]) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe headers for an email whose footer has an unsubscribe link."""
    url = links.get("unsubscribe_url")
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"} if url else {}
