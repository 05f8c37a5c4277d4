"""QR images of share links: PNG and SVG of the short URL, for QR-code and in-store links only."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from tests.tracking.test_links_api import LINKS, create_link, links_client, members  # noqa: F401 - fixtures


@pytest.mark.parametrize("source", ["qr_code", "in_store"])
def test_a_qr_link_is_drawn_as_png_and_svg(links_client, members, source):  # noqa: F811
    link = create_link(links_client, members["m1"], source=source).json()
    png = links_client.get(f"{LINKS}/{link['id']}/qr.png", headers=members["m1"])
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert "max-age" in png.headers["cache-control"] and "private" in png.headers["cache-control"]
    svg = links_client.get(f"{LINKS}/{link['id']}/qr.svg", headers=members["m1"])
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert ElementTree.fromstring(svg.content).tag == "{http://www.w3.org/2000/svg}svg"


def test_a_larger_scale_draws_a_larger_image_and_silly_scales_are_refused(links_client, members):  # noqa: F811
    link = create_link(links_client, members["m1"], source="qr_code").json()
    small = links_client.get(f"{LINKS}/{link['id']}/qr.png", headers=members["m1"], params={"scale": 2})
    large = links_client.get(f"{LINKS}/{link['id']}/qr.png", headers=members["m1"], params={"scale": 20})
    assert len(small.content) < len(large.content)
    assert links_client.get(f"{LINKS}/{link['id']}/qr.png", headers=members["m1"],
                            params={"scale": 500}).status_code == 422


def test_a_link_shared_elsewhere_has_no_qr_image(links_client, members):  # noqa: F811
    link = create_link(links_client, members["m1"], source="email").json()
    assert links_client.get(f"{LINKS}/{link['id']}/qr.svg", headers=members["m1"]).status_code == 404
    assert links_client.get(f"{LINKS}/{link['id']}/qr.png").status_code == 401
