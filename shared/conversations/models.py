"""The conversational programme's data, in the glossary's words (docs/conversations.md).

- A conversation request (waiting list, direct, hook) is not a conversation: it may never become one.
- A request is handled when a member picks it up; the conversation starts then (a direct or hook
  request starts its conversation at once with the member it names; in store, face to face).
- A dialogue: both parties wrote at least one message. Conversations are endless: never closed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

RequestKind = Literal["waiting_list", "direct", "hook"]
RequestState = Literal["pending", "handled", "cancelled", "abandoned"]
ConversationKind = Literal["waiting_list", "direct", "hook", "in_store", "outbound", "community"]
PartyKind = Literal["member", "visitor"]
MAX_TEXT = 4000


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class RequestContext(_Model):
    """Where the visitor asked from: the page, the product it shows (ids and URL only)."""

    page_url: str | None = Field(None, alias="pageUrl", max_length=2000)
    product_id: str | None = Field(None, alias="productId", max_length=50)


class WaitingListRequestIn(_Model):
    """A visitor's request for a conversation through the waiting list."""

    context: RequestContext = Field(default_factory=RequestContext)


class DirectRequestIn(WaitingListRequestIn):
    """A visitor's request for a conversation with the member they chose."""

    member_id: str = Field(alias="memberId", min_length=1, max_length=100)


MessageKind = Literal["text", "product", "products", "form", "form_answer", "rating_request", "rating", "photo",
                      "video"]
# Who may send each kind: a member shares recommended lists, asks for input or a rating; the visitor answers.
MEMBER_ONLY = frozenset({"products", "form", "rating_request"})
VISITOR_ONLY = frozenset({"form_answer", "rating"})
MAX_PRODUCTS = 20
MAX_FORM_FIELDS = 10
FormFieldType = Literal["text", "number", "choice", "postcode", "size", "firstName", "email"]
# Answers to these go to the visitor's own record (first name, email_tmp), never into the message.
PERSONAL_FIELDS = frozenset({"firstName", "email"})


class _MessageBase(_Model):
    """`clientMessageId` makes a retried post land once."""

    client_message_id: str = Field(alias="clientMessageId", min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class TextIn(_MessageBase):
    kind: Literal["text"] = "text"
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class ProductMessageIn(_MessageBase):
    """A catalog product, shown as a mini product page (photos, title, price, availability, link)."""

    kind: Literal["product"]
    product_id: str = Field(alias="productId", min_length=1, max_length=50)
    text: str | None = Field(None, max_length=MAX_TEXT)


class ProductsMessageIn(_MessageBase):
    """The member's recommended products (their list when `productIds` is left out)."""

    kind: Literal["products"]
    product_ids: list[str] | None = Field(None, alias="productIds", min_length=1, max_length=MAX_PRODUCTS)
    text: str | None = Field(None, max_length=MAX_TEXT)


class FormField(_Model):
    name: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    label: str = Field(min_length=1, max_length=200)
    type: FormFieldType = "text"
    options: list[str] | None = Field(None, min_length=1, max_length=30)
    required: bool = True

    @model_validator(mode="after")
    def _choices_have_options(self) -> FormField:
        if (self.type == "choice") != (self.options is not None):
            raise ValueError("a choice field has options, and only a choice field")
        return self


class FormIn(_MessageBase):
    """Data-entry assistance: the member asks for structured input (a size, a postcode, a first name...)."""

    kind: Literal["form"]
    text: str | None = Field(None, max_length=MAX_TEXT)
    fields: list[FormField] = Field(min_length=1, max_length=MAX_FORM_FIELDS)

    @model_validator(mode="after")
    def _names_once(self) -> FormIn:
        names = [field.name for field in self.fields]
        if len(names) != len(set(names)):
            raise ValueError("each field name once")
        return self


class FormAnswerIn(_MessageBase):
    """The visitor's answer to a form message (`replyTo`: its id)."""

    kind: Literal["form_answer"]
    reply_to: str = Field(alias="replyTo", min_length=1, max_length=64)
    values: dict[str, str] = Field(max_length=MAX_FORM_FIELDS)


class RatingRequestIn(_MessageBase):
    kind: Literal["rating_request"]
    text: str | None = Field(None, max_length=MAX_TEXT)


class RatingIn(_MessageBase):
    """The visitor rates the member 1 to 5 (once per rating request), with an optional comment."""

    kind: Literal["rating"]
    reply_to: str = Field(alias="replyTo", min_length=1, max_length=64)
    score: int = Field(ge=1, le=5)
    comment: str | None = Field(None, max_length=1000)


class MediaIn(_MessageBase):
    """A photo or video uploaded first (`.../conversations/media`), by its id."""

    kind: Literal["photo", "video"]
    media_id: str = Field(alias="mediaId", min_length=1, max_length=64)
    text: str | None = Field(None, max_length=MAX_TEXT)


class PhotoIn(MediaIn):
    kind: Literal["photo"]


class VideoIn(MediaIn):
    kind: Literal["video"]


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return value.get("kind", "text")
    return getattr(value, "kind", "text")


MessageIn = Annotated[
    Annotated[TextIn, Tag("text")] | Annotated[ProductMessageIn, Tag("product")]
    | Annotated[ProductsMessageIn, Tag("products")]
    | Annotated[FormIn, Tag("form")] | Annotated[FormAnswerIn, Tag("form_answer")]
    | Annotated[RatingRequestIn, Tag("rating_request")] | Annotated[RatingIn, Tag("rating")]
    | Annotated[PhotoIn, Tag("photo")] | Annotated[VideoIn, Tag("video")],
    Discriminator(_kind_of),
]


class Party(BaseModel):
    """One side of a conversation."""

    model_config = ConfigDict(populate_by_name=True)

    kind: PartyKind
    id: str


class WaitingRequestRead(BaseModel):
    """A conversation request as its visitor or a member sees it."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    id: str
    kind: RequestKind
    state: RequestState
    visitor_id: str = Field(alias="visitorId")
    context: RequestContext
    created_at: datetime = Field(alias="createdAt")
    handled_at: datetime | None = Field(None, alias="handledAt")
    handled_by: str | None = Field(None, alias="handledBy")
    cancelled_at: datetime | None = Field(None, alias="cancelledAt")
    abandoned_at: datetime | None = Field(None, alias="abandonedAt")
    conversation_id: str | None = Field(None, alias="conversationId")
    abandoned: bool = False


class QueueStatus(WaitingRequestRead):
    """The visitor's own request, with its place in the queue while it waits."""

    position: int | None = None
    estimated_wait_seconds: int | None = Field(None, alias="estimatedWaitSeconds")


class WaitingList(BaseModel):
    """The pending requests, oldest first."""

    items: list[WaitingRequestRead]
    continuation: str | None = None


class MessagePrice(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    amount_minor: int = Field(alias="amountMinor")
    currency: str


class MessageProductCard(BaseModel):
    """A product as the catalog had it when it was shared: the mini product page."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    product_id: str = Field(alias="productId")
    title: str
    link: str
    page_url: str = Field(alias="pageUrl")
    image_links: list[str] = Field(default_factory=list, alias="imageLinks")
    price: MessagePrice
    sale_price: MessagePrice | None = Field(None, alias="salePrice")
    availability: str


class MessageMedia(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    media_id: str = Field(alias="mediaId")
    kind: Literal["photo", "video"]
    content_type: str = Field(alias="contentType")
    width: int | None = None
    height: int | None = None
    size: int
    duration_seconds: float | None = Field(None, alias="durationSeconds")
    url: str | None = Field(None, description="A signed link, valid a few minutes (read the page again for a new one)")


class MessageRead(BaseModel):
    """One message of a conversation: its `kind` says which of the optional parts it has."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    id: str
    # Its place in the conversation: the cursor of `after` / `before` and of read marks.
    seq: str
    conversation_id: str = Field(alias="conversationId")
    author: Party
    kind: MessageKind = "text"
    text: str | None = None
    product: MessageProductCard | None = None
    products: list[MessageProductCard] | None = None
    fields: list[FormField] | None = Field(None, description="A form's fields")
    reply_to: str | None = Field(None, alias="replyTo", description="The form or rating request answered")
    values: dict[str, str] | None = Field(None, description="A form answer's values (personal fields left out)")
    provided: list[str] | None = Field(None, description="Personal fields the visitor gave (kept on their account)")
    score: int | None = None
    comment: str | None = None
    media: MessageMedia | None = None
    removed_at: datetime | None = Field(None, alias="removedAt", description="Its content was removed by moderation")
    created_at: datetime = Field(alias="createdAt")


class MessagePage(BaseModel):
    """Messages after (or before) a cursor, oldest first; `cursor` continues the same direction."""

    model_config = ConfigDict(populate_by_name=True)

    items: list[MessageRead]
    cursor: str | None = None
    read_marks: dict[str, str] = Field(
        default_factory=dict, alias="readMarks",
        description="Read receipts: each party (\"member:<id>\", \"visitor:<id>\") and the `seq` they read up to")


class InboxEntry(BaseModel):
    """One conversation in a participant's list: its other party, last activity, unread count."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    conversation_id: str = Field(alias="conversationId")
    kind: ConversationKind
    other: Party = Field(description="The other party (of a group: the first other member)")
    title: str | None = Field(None, description="A group's title")
    members: int | None = Field(None, description="How many members a group has")
    last_message_at: datetime | None = Field(None, alias="lastMessageAt")
    unread: int = 0


class Inbox(BaseModel):
    items: list[InboxEntry]
    continuation: str | None = None
