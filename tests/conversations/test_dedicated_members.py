"""A customer's dedicated member: the brand's automatic rule (the member who last served them, their home
store's members in turn, the nearest store's), the client's own choice in the widget, and the member's
outbound list of dedicated customers, reached by resuming or starting a conversation."""

from __future__ import annotations

from datetime import timedelta

from shared.sales import dedicated
from tests.conversations.conftest import APP, WIDGET, Chat
from tests.conversations.test_metrics import picked_up_conversation, post
from tests.conversations.test_returning_client import bearer, session
from tests.events.test_dispatcher import drain
from tests.identity.test_profile_api import add_member
from tests.races import in_parallel
from tests.sales.shop import BRAND  # the `shop` fixture: tests/conversations/conftest.py

DEDICATED = f"{WIDGET}/dedicated-member"


def set_rule(shop, rule: str, **more) -> None:
    answer = shop.client.patch(f"/api/v1/manager/brands/{BRAND}", headers=shop.manager_token("admin", BRAND),
                               json={"dedicatedMemberRule": rule, **more})
    assert answer.status_code == 200, answer.text


def client_of(shop, customer_id: str) -> dict[str, str]:
    """A widget session the brand's site signed in as this customer (service terms accepted)."""
    from tests.integrations.brand_platform import assertion

    started = session(Chat(shop.client, shop.container))
    recognised = shop.client.post(f"{WIDGET}/visitors/me/client", headers=bearer(started["accessToken"]),
                                  json={"assertion": assertion(shop.keys[BRAND], customer_id, shop.now())})
    assert recognised.status_code == 200, recognised.text
    return bearer(recognised.json()["accessToken"])


def store_with_members(shop, store_id: str, members: list[str], location: dict | None = None) -> None:
    answer = shop.call("PUT", f"/api/v1/integrations/{BRAND}/stores/{store_id}", body={
        "id": store_id, "name": f"Store {store_id}", "city": "Lyon", **({"location": location} if location else {})})
    assert answer.status_code in (200, 201), answer.text
    for member_id in members:
        add_member(shop.container, brand_id=BRAND, member_id=member_id, home_shop_id=store_id)


def assign(shop, customer_id: str, member_id: str):
    """The brand platform assigns the customer a dedicated member."""
    return shop.call("PUT", f"/api/v1/integrations/{BRAND}/customers/{customer_id}/dedicated-member",
                     body={"memberId": member_id})


def mine(shop, visitor, **params) -> dict:
    answer = shop.client.get(DEDICATED, headers=visitor, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_under_last_served_the_member_who_last_wrote_to_the_client_is_dedicated(shop):
    set_rule(shop, "last_served")
    chat = Chat(shop.client, shop.container)
    visitor = client_of(shop, "C-1")
    ana = chat.member("ana")
    first = picked_up_conversation(chat, ana, visitor)
    post(chat, APP, ana, first, "member-0001", text="Hello")
    drain(shop.container)
    assert (mine(shop, visitor)["memberId"], mine(shop, visitor)["source"]) == ("ana", "rule:last_served")

    shop.container.clock.advance(timedelta(days=3))
    visitor, bob = client_of(shop, "C-1"), chat.member("bob")  # days later: new sessions, the same client
    second = picked_up_conversation(chat, bob, visitor)
    post(chat, APP, bob, second, "member-0002", text="Hi again")
    drain(shop.container)
    assert mine(shop, visitor)["memberId"] == "bob"
    post(chat, WIDGET, visitor, first, "visitor-0001", text="Thanks Ana")  # the client writing serves nobody
    drain(shop.container)
    assert mine(shop, visitor)["memberId"] == "bob"


def test_an_explicit_choice_is_never_overridden_by_the_rule(shop):
    set_rule(shop, "last_served")
    chat = Chat(shop.client, shop.container)
    visitor = client_of(shop, "C-2")
    ana, bob = chat.member("ana"), chat.member("bob")
    chosen = shop.client.put(DEDICATED, headers=visitor, json={"memberId": "ana"})
    assert chosen.status_code == 200 and chosen.json()["source"] == "customer"
    conversation = picked_up_conversation(chat, bob, visitor)
    post(chat, APP, bob, conversation, "member-0001", text="Hello")
    drain(shop.container)
    assert (mine(shop, visitor)["memberId"], mine(shop, visitor)["source"]) == ("ana", "customer")
    assert ana is not None  # ana is listed (chat.member saved her): the one the client chose


def test_under_home_store_the_stores_members_take_new_customers_in_turn(shop):
    set_rule(shop, "home_store")
    store_with_members(shop, "lyon-1", ["s1", "s2", "s3"])
    given = [mine(shop, client_of(shop, f"C-{n}"), storeId="lyon-1")["memberId"] for n in range(6)]
    assert given == ["s1", "s2", "s3", "s1", "s2", "s3"]
    again = client_of(shop, "C-0")
    assert mine(shop, again, storeId="lyon-1")["memberId"] == "s1"  # kept: the rule fills, it never moves one


def test_customers_assigned_at_once_get_different_members_of_the_store(shop):
    set_rule(shop, "home_store")
    store_with_members(shop, "lyon-1", [f"s{n}" for n in range(10)])
    visitors = [client_of(shop, f"C-{n}") for n in range(10)]
    answers = in_parallel(10, lambda: shop.client.get(DEDICATED, headers=visitors.pop(), params={"storeId": "lyon-1"}))
    assert sorted(answer.json()["memberId"] for answer in answers) == sorted(f"s{n}" for n in range(10))


def test_an_in_store_order_gives_the_customer_their_home_stores_member_and_attributes_to_them(shop):
    set_rule(shop, "home_store")
    store_with_members(shop, "lyon-1", ["s1", "s2"])
    answer = shop.order(customerKey="C-77", storeId="lyon-1", channel="in_store")
    assert answer.status_code == 201, answer.text
    attribution = answer.json()["attribution"]
    assert (attribution["memberId"], attribution["reason"]) == ("s1", "dedicated_member")
    assert attribution["explanation"]["dedicatedBy"] == "rule:home_store"
    visitor = client_of(shop, "C-77")
    assert (mine(shop, visitor)["memberId"], mine(shop, visitor)["storeId"]) == ("s1", "lyon-1")


def test_under_nearest_store_the_nearest_store_with_members_takes_the_customer(shop):
    set_rule(shop, "nearest_store")
    store_with_members(shop, "paris", ["p1"], {"lat": 48.8566, "lon": 2.3522})
    store_with_members(shop, "lyon", ["l1"], {"lat": 45.7640, "lon": 4.8357})
    store_with_members(shop, "empty-near", [], {"lat": 45.7700, "lon": 4.8300})
    visitor = client_of(shop, "C-9")
    assert mine(shop, visitor)["memberId"] is None  # no position, no rule can tell
    found = mine(shop, visitor, near="45.75,4.85")  # in Lyon: the store nearby lists nobody, Lyon's does
    assert (found["memberId"], found["storeId"], found["source"]) == ("l1", "lyon", "rule:nearest_store")
    bad = shop.client.get(DEDICATED, headers=visitor, params={"near": "north"})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


def test_the_client_chooses_and_drops_their_member_but_not_the_brands_assignment(shop):
    visitor = client_of(shop, "C-5")
    chat = Chat(shop.client, shop.container)
    chat.member("ana")
    add_member(shop.container, brand_id=BRAND, member_id="hidden", status="blocked")
    assert shop.client.put(DEDICATED, headers=visitor, json={"memberId": "hidden"}).status_code == 404
    assert shop.client.put(DEDICATED, headers=visitor, json={"memberId": "ana"}).json()["memberId"] == "ana"
    assert shop.client.delete(DEDICATED, headers=visitor).status_code == 204
    assert mine(shop, visitor)["memberId"] is None

    assigned = assign(shop, "C-5", "ana")
    assert assigned.status_code == 200, assigned.text
    refused = shop.client.delete(DEDICATED, headers=visitor)
    assert refused.status_code == 409
    assert mine(shop, visitor)["source"] == "brand"

    set_rule(shop, "none", dedicatedMemberCustomerChoice=False)
    assert shop.client.put(DEDICATED, headers=visitor, json={"memberId": "ana"}).status_code == 403
    assert mine(shop, visitor)["canChoose"] is False


def test_a_temporary_account_has_no_dedicated_member(shop):
    anonymous = bearer(session(Chat(shop.client, shop.container))["accessToken"])
    assert shop.client.get(DEDICATED, headers=anonymous).status_code == 403


def test_a_member_reaches_a_dedicated_customer_by_resuming_or_starting_a_conversation(shop):
    chat = Chat(shop.client, shop.container)
    ana = chat.member("ana")
    talked, silent = client_of(shop, "C-20"), client_of(shop, "C-21")
    for customer in ("C-20", "C-21", "C-22"):  # C-22 never used the widget
        assign(shop, customer, "ana")
    earlier = picked_up_conversation(chat, ana, talked)
    post(chat, WIDGET, talked, earlier, "visitor-0001", text="Hello")
    drain(shop.container)

    listed = shop.client.get(f"{APP}/dedicated-customers", headers=ana).json()["items"]
    by_conversation = {item["conversationId"]: item for item in listed}
    assert len(listed) == 3 and earlier in by_conversation
    assert sorted(item["reachable"] for item in listed) == [False, True, True]
    assert "C-20" not in str(listed)

    resumed = shop.client.post(f"{APP}/dedicated-customers/{by_conversation[earlier]['customerRef']}/conversation",
                               headers=ana)
    assert resumed.json()["conversationId"] == earlier
    fresh_ref = next(item["customerRef"] for item in listed if item["reachable"] and item["conversationId"] is None)
    started = shop.client.post(f"{APP}/dedicated-customers/{fresh_ref}/conversation", headers=ana)
    assert started.status_code == 200, started.text
    post(chat, APP, ana, started.json()["conversationId"], "member-0001", text="New arrivals for you")
    (entry,) = shop.client.get(f"{WIDGET}/conversations", headers=silent).json()["items"]
    assert entry["kind"] == "outbound" and entry["unread"] == 1
    unreachable = next(item["customerRef"] for item in listed if not item["reachable"])
    answer = shop.client.post(f"{APP}/dedicated-customers/{unreachable}/conversation", headers=ana)
    assert answer.status_code == 409 and answer.json()["type"].endswith("not-reachable")

    bob = chat.member("bob")
    assert shop.client.post(f"{APP}/dedicated-customers/{fresh_ref}/conversation", headers=bob).status_code == 404
    assert shop.client.get(f"{APP}/dedicated-customers", headers=bob).json()["items"] == []


def test_two_rule_assignments_racing_for_one_customer_leave_one(shop):
    from shared.brands import service as brands

    set_rule(shop, "home_store")
    store_with_members(shop, "lyon-1", ["s1", "s2"])
    store = shop.container.store.for_brand(BRAND)
    brand = brands.get(store=shop.container.store, brand_id=BRAND)
    found = in_parallel(2, lambda: dedicated.by_rule(store=store, brand=brand, key="k" * 40, now=shop.now(),
                                                     store_id="lyon-1"))
    assert found[0]["memberId"] == found[1]["memberId"] == store.get(dedicated.CONTAINER, "k" * 40)["memberId"]
