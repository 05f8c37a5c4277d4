"""Bots, crawlers and link-preview fetchers: redirected, never counted as visits.

CrawlerDetect's list (search engines, social previews such as facebookexternalhit, Slackbot,
WhatsApp, LinkedInBot, Twitterbot, HTTP libraries) costs ~300 µs a call, so one instance
answers and results are cached by user agent: a link shared in a chat is fetched by the same
few preview agents over and over. A request without a user agent is treated as a bot (browsers
always send one).
"""

from __future__ import annotations

import threading
from functools import lru_cache

from crawlerdetect import CrawlerDetect

_DETECTOR = CrawlerDetect()
_LOCK = threading.Lock()  # the detector keeps its last match on itself: one caller at a time
_MAX_LENGTH = 512  # longer agents are cut (the markers are at the start) so the cache stays small


@lru_cache(maxsize=4096)
def _is_crawler(user_agent: str) -> bool:
    with _LOCK:
        return _DETECTOR.is_crawler(user_agent)


def is_bot(user_agent: str | None) -> bool:
    """True for a crawler, a link-preview fetcher, an HTTP library, or a missing user agent."""
    agent = (user_agent or "").strip()
    if not agent:
        return True
    return _is_crawler(agent[:_MAX_LENGTH])
