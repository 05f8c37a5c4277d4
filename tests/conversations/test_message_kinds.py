"""Messages beyond text: a product's mini page, the member's recommended list, data-entry forms and their
answers (a first name and an email go to the visitor's account only), rating requests and ratings."""

from __future__ import annotations

from shared.catalog import member_products, products
from shared.catalog.member_products import MemberProductLists
from shared.identity import repository
from tests.catalog.test_catalog_sync import product
from tests.conversations.conftest import APP, BRAND, WIDGET
from tests.conversations.test_metrics import board, picked_up_conversation


def seed_catalog(chat):
    store = chat.container.store.for_brand(BRAND)
    lines = [product("bag", title="Bag", additionalImageLinks=["https://cdn.example/bag-2.jpg"]),
             product("belt", title="Belt", salePrice={"amountMinor": 3900, "currency": "EUR"}),
             product("gone", title="Gone")]
    products.upsert_batch(store=store, lines=lines, now=chat.container.clock.now())
    member_products.put(store=store, member_id="m1", now=chat.container.clock.now(),
                        data=MemberProductLists.model_validate({"recommended": [{"productId": "belt"},
                                                                                {"productId": "bag"}]}))


def started(chat):
    member, visitor = chat.member(), chat.visitor()
    return member, visitor, picked_up_conversation(chat, member, visitor, wait=5)


def send(chat, base, headers, conversation, body, expect=201):
    answer = chat.client.post(f"{base}/conversations/{conversation}/messages", headers=headers, json=body)
    assert answer.status_code == expect, answer.text
    return answer.json()


def test_a_shared_product_is_a_mini_page_both_parties_read(chat):
    seed_catalog(chat)
    member, visitor, conversation = started(chat)
    sent = send(chat, APP, member, conversation, {"clientMessageId": "prod-0001", "kind": "product",
                                                  "productId": "bag", "text": "This one?"})
    assert sent["kind"] == "product" and sent["text"] == "This one?"
    assert sent["product"] == {"productId": "bag", "title": "Bag", "link": "https://shop.example/p/bag",
                               "pageUrl": "https://shop.example/p/bag",
                               "imageLinks": ["https://cdn.example/bag.jpg", "https://cdn.example/bag-2.jpg"],
                               "price": {"amountMinor": 4900, "currency": "EUR"}, "salePrice": None,
                               "availability": "in_stock"}
    page = chat.client.get(f"{WIDGET}/conversations/{conversation}/messages", headers=visitor).json()
    assert page["items"][-1]["product"]["title"] == "Bag"
    # A visitor may show a product too; an unknown one is refused, naming the field.
    unknown = send(chat, WIDGET, visitor, conversation, {"clientMessageId": "prod-0002", "kind": "product",
                                                         "productId": "nope"}, expect=422)
    assert unknown["errors"][0]["field"] == "productId"


def test_the_member_sends_their_recommended_list(chat):
    seed_catalog(chat)
    member, visitor, conversation = started(chat)
    mine = send(chat, APP, member, conversation, {"clientMessageId": "list-0001", "kind": "products"})
    assert [card["productId"] for card in mine["products"]] == ["belt", "bag"]
    assert mine["products"][0]["salePrice"] == {"amountMinor": 3900, "currency": "EUR"}
    chosen = send(chat, APP, member, conversation, {"clientMessageId": "list-0002", "kind": "products",
                                                    "productIds": ["bag"]})
    assert [card["productId"] for card in chosen["products"]] == ["bag"]
    refused = chat.client.post(f"{WIDGET}/conversations/{conversation}/messages", headers=visitor,
                               json={"clientMessageId": "list-0003", "kind": "products"})
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"


def test_a_form_answer_is_checked_and_personal_fields_go_to_the_visitor_account_only(chat):
    member, visitor, conversation = started(chat)
    form = send(chat, APP, member, conversation, {
        "clientMessageId": "form-0001", "kind": "form", "text": "To check the stock:",
        "fields": [{"name": "size", "label": "Your size", "type": "choice", "options": ["S", "M", "L"]},
                   {"name": "zip", "label": "Postcode", "type": "postcode"},
                   {"name": "name", "label": "First name", "type": "firstName"},
                   {"name": "mail", "label": "Email", "type": "email", "required": False}]})
    bad = send(chat, WIDGET, visitor, conversation, {"clientMessageId": "answ-0001", "kind": "form_answer",
                                                     "replyTo": form["id"], "values": {"size": "XXL", "zip": "69001",
                                                                                      "name": "Zoé"}}, expect=422)
    assert bad["errors"][0]["field"] == "values.size"
    missing = send(chat, WIDGET, visitor, conversation, {"clientMessageId": "answ-0002", "kind": "form_answer",
                                                         "replyTo": form["id"], "values": {"size": "M"}}, expect=422)
    assert missing["errors"][0]["field"] == "values.zip"
    answer = send(chat, WIDGET, visitor, conversation, {
        "clientMessageId": "answ-0003", "kind": "form_answer", "replyTo": form["id"],
        "values": {"size": "M", "zip": "69001", "name": "Zoé", "mail": "zoe@example.com"}})
    assert answer["values"] == {"size": "M", "zip": "69001"} and answer["provided"] == ["email", "firstName"]
    stored = chat.container.store.for_brand(BRAND).get("messages", answer["id"], pk=f"{BRAND}|{conversation}")
    assert "zoe@example.com" not in str(stored) and "Zoé" not in str(stored)
    visitor_id = chat.client.get(f"{WIDGET}/visitors/me", headers=visitor).json()["id"]
    account = repository.get_visitor(store=chat.container.store.for_brand(BRAND), visitor_id=visitor_id)[0]
    assert (account.first_name, account.email_tmp) == ("Zoé", "zoe@example.com")
    # Only the member asks; only the visitor answers; an answer names a form of this conversation.
    assert chat.client.post(f"{WIDGET}/conversations/{conversation}/messages", headers=visitor, json={
        "clientMessageId": "form-0002", "kind": "form", "fields": [{"name": "a", "label": "A"}]}).status_code == 403
    assert send(chat, WIDGET, visitor, conversation, {"clientMessageId": "answ-0004", "kind": "form_answer",
                                                      "replyTo": "nope", "values": {}}, expect=422)
    bad_form = chat.client.post(f"{APP}/conversations/{conversation}/messages", headers=member, json={
        "clientMessageId": "form-0003", "kind": "form", "fields": [{"name": "a", "label": "A", "type": "choice"}]})
    assert bad_form.status_code == 422


def test_a_rating_answers_its_request_once_and_feeds_the_member_metrics(chat, manager_token):
    member, visitor, conversation = started(chat)
    request = send(chat, APP, member, conversation, {"clientMessageId": "rate-0001", "kind": "rating_request",
                                                     "text": "How did I do?"})
    rating = send(chat, WIDGET, visitor, conversation, {"clientMessageId": "stars-001", "kind": "rating",
                                                        "replyTo": request["id"], "score": 4, "comment": "Helpful"})
    assert (rating["score"], rating["comment"], rating["replyTo"]) == (4, "Helpful", request["id"])
    again = send(chat, WIDGET, visitor, conversation, {"clientMessageId": "stars-001", "kind": "rating",
                                                       "replyTo": request["id"], "score": 4, "comment": "Helpful"})
    assert again["id"] == rating["id"]  # a retry lands once
    second = send(chat, WIDGET, visitor, conversation, {"clientMessageId": "stars-002", "kind": "rating",
                                                        "replyTo": request["id"], "score": 1}, expect=409)
    assert second["type"].rsplit("/", 1)[-1] == "already-answered"
    assert send(chat, WIDGET, visitor, conversation, {"clientMessageId": "stars-003", "kind": "rating",
                                                      "replyTo": request["id"], "score": 6}, expect=422)
    assert chat.client.post(f"{APP}/conversations/{conversation}/messages", headers=member, json={
        "clientMessageId": "stars-004", "kind": "rating", "replyTo": request["id"], "score": 5}).status_code == 403
    figures = board(chat, manager_token("viewer", BRAND), memberId="m1")
    assert figures["totals"]["ratings"] == {"count": 1, "average": 4.0}


def test_an_unknown_kind_is_a_clear_error(chat):
    member, _, conversation = started(chat)
    answer = chat.client.post(f"{APP}/conversations/{conversation}/messages", headers=member,
                              json={"clientMessageId": "what-0001", "kind": "sticker", "text": "hi"})
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
