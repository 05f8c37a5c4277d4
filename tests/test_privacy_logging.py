"""No personal data in logs, whatever the logging path; IPs are hashed at the edge."""

from __future__ import annotations

import logging

import pytest

from shared.privacy.hashing import BrandHasher, EdgeIpHasher
from shared.privacy.logging import Id, configure_logging, scrub, scrub_identifier


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("user jane.doe+x@example.com", "jane.doe"),
        ("from 192.168.10.20", "192.168.10.20"),
        ("from 2001:db8::42", "2001:db8::42"),
        ("call +33 6 12 34 56 78", "12 34 56"),
    ],
)
def test_scrub_removes_personal_data(text, leak):
    assert leak not in scrub(text)


def test_times_and_ids_survive():
    assert scrub("member mem_0123 at 2030-01-01T09:00:00Z took 13:37:15") == (
        "member mem_0123 at 2030-01-01T09:00:00Z took 13:37:15")


def test_every_logging_path_is_scrubbed(caplog):
    configure_logging()
    log = logging.getLogger("test.pii")
    with caplog.at_level(logging.INFO):
        log.info("percent %s", "a@b.fr")
        log.info(f"fstring {'c@d.fr'}")
        log.warning("dict %(who)s", {"who": "e@f.fr"})
        try:
            raise ValueError("bad input g@h.fr")
        except ValueError:
            log.exception("failed")
    text = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    for address in ("a@b.fr", "c@d.fr", "e@f.fr", "g@h.fr"):
        assert address not in text


def test_a_request_leaves_no_ip_email_or_body_in_the_logs(client, manager_token, caplog):
    with caplog.at_level(logging.DEBUG):
        client.post("/api/v1/manager/brands", headers={**manager_token("operator"), "X-Forwarded-For": "203.0.113.9"},
                    json={"id": "acme", "name": "owner jane@example.com"})
        client.get("/api/v1/health?email=jane@example.com")
    text = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    assert "jane@example.com" not in text
    assert "testclient" not in text  # the client address is hashed, never logged raw
    assert "ip=" in caplog.text


def test_customer_ids_in_integration_paths_never_reach_the_access_log(client, caplog):
    with caplog.at_level(logging.INFO, logger="popsell.access"):
        client.put("/api/v1/integrations/acme/customers/CUST-778899/dedicated-member", json={})
        client.put("/api/v1/integrations/acme/contacts/EXT-445566", json={})
    assert "/customers/{id}/dedicated-member" in caplog.text
    assert "CUST-778899" not in caplog.text and "EXT-445566" not in caplog.text


def test_hashes_are_keyed_per_brand_and_normalised():
    acme, globex = BrandHasher("master", "acme"), BrandHasher("master", "globex")
    assert acme("email", " Jane@Example.COM ") == acme("email", "jane@example.com")
    assert acme("email", "jane@example.com") != globex("email", "jane@example.com")
    assert BrandHasher("other-master", "acme")("email", "jane@example.com") != acme("email", "jane@example.com")
    assert len(acme("customer_id", "C-1")) == 64
    assert EdgeIpHasher("k")("::ffff:0:1") == EdgeIpHasher("k")("0:0:0:0:0:ffff:0:1")


def test_an_internationalised_address_is_scrubbed_too():
    assert "josé" not in scrub("from josé.müller@exämple.com today")
    assert scrub("user 用户@例子.广告") == "user [email]"


def test_redaction_runs_field_by_field_and_keeps_identifiers_whole(caplog):
    configure_logging()
    log = logging.getLogger("test.fields")
    with caplog.at_level(logging.INFO):
        log.info("order %s of %s: %d in %.1fms", Id("ORD-2030-000001234"), Id("1000012345"), 201, 12.3)
        log.info("free text %s", "call me on +33 6 12 34 56 78")
    assert "order ORD-2030-000001234 of 1000012345: 201 in 12.3ms" in caplog.text
    assert "12 34 56" not in caplog.text and "[phone]" in caplog.text
    # An identifier never carries an address: those are still cleared.
    assert scrub_identifier("id jane@example.com 192.168.1.2") == "id [email] [ip]"


def test_the_access_line_never_loses_its_status_to_the_phone_pattern(client, manager_token, caplog):
    from tests.integrations.brand_platform import create_brand

    with caplog.at_level(logging.INFO, logger="popsell.access"):
        create_brand(client, manager_token, "acme")
        admin = manager_token("admin", "acme")
        for number in range(3):
            client.get(f"/api/v1/manager/brands/acme/orders/1000012{number:03d}", headers=admin)
    lines = [r.getMessage() for r in caplog.records if "/orders/" in r.getMessage()]
    assert len(lines) == 3
    assert all(line.startswith("GET /api/v1/manager/brands/acme/orders/1000012") and " 404 " in line
               for line in lines), lines


def test_token_bearing_path_segments_never_reach_the_access_log(client, caplog):
    token = "eyJiIjoiYWNtZSIsImMiOiJjdC0xIiwibSI6Im0xIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
    with caplog.at_level(logging.INFO, logger="popsell.access"):
        client.get(f"/api/v1/app/acme/unsubscribe/{token}")
        client.get("/api/v1/app/acme/nowhere/jane@exämple.com")
        client.delete("/api/v1/integrations/acme/sso/members/subject-of-jane")
    assert "/api/v1/app/acme/unsubscribe/{id}" in caplog.text
    assert token not in caplog.text and "exämple" not in caplog.text and "subject-of-jane" not in caplog.text
