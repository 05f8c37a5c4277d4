"""A member's public profile, shared by the App's and the widget's routes."""

from __future__ import annotations

from functions.http_api.routers.common.directory import open_brand
from popsell.bootstrap import Container
from shared.directory import profile
from shared.directory.models import MemberPublicProfile, View, VisitorPublicProfile


def public_profile(container: Container, brand_id: str, member_id: str,
                   view: View) -> MemberPublicProfile | VisitorPublicProfile:
    return profile.public_profile(store=container.store.for_brand(brand_id), brand=open_brand(container, brand_id),
                                  member_id=member_id, view=view, now=container.clock.now(), blobs=container.blobs,
                                  app_base_url=container.settings.app_base_url)
