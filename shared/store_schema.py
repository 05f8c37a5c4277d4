"""Containers, partition keys and indexed paths: declared once, here.

The SQLite adapter builds its tables and expression indexes from this declaration, the
Cosmos adapter its containers and indexing policies, and `infra/modules/cosmos.bicep`
declares the same containers; `tests/infra/test_containers_match_code.py` holds the two equal.

Partition keys follow the access patterns and the 20 GB logical-partition limit:
- `brandId` for brand-sized data read per brand (members, settings, email log).
- `pk` for high-volume data a brand alone would overflow; the service sets `pk` to
  "<brandId>|<shard>" (e.g. a member id or a day), and the brand handle refuses a `pk`
  that does not start with its own brand.
"""

from __future__ import annotations

from dataclasses import dataclass

# Brand documents themselves (programme configuration) live under this pseudo-brand, so the
# operator can list brands with an ordinary single-partition query.
PLATFORM_SCOPE = "platform"

DATABASE_NAME = "popsell"


@dataclass(frozen=True)
class ContainerSpec:
    """One container: its partition key field and the fields queries filter or sort on."""

    name: str
    partition_key: str  # a top-level field name: "brandId" or "pk"
    indexed_paths: tuple[str, ...] = ()
    # Cosmos per-item TTL switched on (-1: items expire only when they carry `ttl`).
    ttl_enabled: bool = False
    # String fields searched by substring (the "contains" filter): an FTS5 trigram table on SQLite.
    text_paths: tuple[str, ...] = ()
    # Arrays of strings filtered by element (the "has" filter): a side table of elements on SQLite.
    array_paths: tuple[str, ...] = ()

    @property
    def partition_key_path(self) -> str:
        return f"/{self.partition_key}"


CONTAINERS: dict[str, ContainerSpec] = {
    spec.name: spec
    for spec in (
        ContainerSpec("brands", "brandId", ("status", "createdAt")),
        # Members (roles 0-6). Directory fields are denormalised under `directory` for search.
        # The directory's listings read `directory.keys.*` in order and search `directory.search.*`, both
        # set on listed members only (docs/decisions/0038-directory-indexes.md).
        ContainerSpec(
            "members",
            "brandId",
            ("role", "status", "retention.dueAt", "lastActivityAt", "directory.sortName", "directory.aliasName",
             "directory.city", "directory.shopId", "directory.geoCell", "directory.availability",
             "restriction.since", "directory.keys.name", "directory.keys.nameAlias", "directory.keys.city",
             "directory.keys.cityAlias", "directory.keys.shop", "directory.keys.shopAlias", "directory.keys.presence",
             "directory.keys.presenceAlias", "directory.keys.live", "directory.keys.liveAlias", "directory.keys.geo"),
            text_paths=("directory.search.fullName", "directory.search.initialName", "directory.search.aliasName"),
        ),
        # External users (roles 7 client, 8 temporary account).
        ContainerSpec("visitors", "brandId", ("role", "status", "retention.dueAt", "lastInteractionAt")),
        # Unique keys (keyed hashes of email, customer id, social id) -> owner: `create` makes them race-free.
        ContainerSpec("identity_keys", "brandId", ("ownerId",)),
        # Manager users of a brand; platform operators live under the platform scope.
        ContainerSpec("manager_users", "brandId", ("level", "status")),
        # Refresh-token families (rotation, revocation, logout), expiring by ttl.
        ContainerSpec("auth_sessions", "brandId", ("subject", "familyId"), ttl_enabled=True),
        # Single-use signed links: email verification, password reset, Manager invitations.
        ContainerSpec("action_tokens", "brandId", ("subject", "purpose"), ttl_enabled=True),
        # Brute-force counters per account and per hashed IP, and replay nonces of signed calls.
        ContainerSpec("throttles", "brandId", (), ttl_enabled=True),
        ContainerSpec("nonces", "brandId", (), ttl_enabled=True),
        # Registration whitelist: keyed hashes of emails and customer IDs.
        ContainerSpec("whitelist", "brandId", ("kind",)),
        # Login and activity records (hashed IP and user agent only), kept 1 year; pk = "<brand>|<subject>".
        ContainerSpec("activity_log", "pk", ("subject", "at"), ttl_enabled=True),
        # `brandVisible`: what the Manager may list (active, brand opt-in shown, not pending confirmation);
        # `status`: what a brand-wide erasure has left to erase.
        ContainerSpec("contacts", "brandId", ("memberId", "emailHash", "retention.dueAt", "brandVisible", "status")),
        # Contacts black list (global opt-outs, definitive provider errors): keyed email hashes only.
        ContainerSpec("blacklist", "brandId", ()),
        # GDPR article 18 restrictions of contacts, one per keyed email hash (a member's or a visitor's
        # restriction is on their own document).
        ContainerSpec("restrictions", "brandId", ()),
        # Campaigns: a member's publication sent to their contacts (counts only, no recipient list).
        ContainerSpec("campaigns", "brandId", ("memberId", "createdAt")),
        ContainerSpec("emails", "brandId", ("status", "sentAt"), ttl_enabled=True),
        # GDPR: the register of requests and exports (hashed subject, no content), the requests
        # themselves and retention run reports. The erasure journal is not here: it lives in the blob
        # store, where a restore of this database cannot take it back (shared/gdpr/journal.py).
        ContainerSpec("gdpr_register", "brandId", ("subjectHash", "createdAt")),
        ContainerSpec("gdpr_requests", "brandId", ("subjectHash", "state", "createdAt")),
        ContainerSpec("retention_runs", "brandId", ("startedAt",)),
        # Brand email templates members may send as campaigns.
        ContainerSpec("email_templates", "brandId", ("status", "createdAt")),
        # Share links of a brand (listing, editing); the redirect reads `link_codes` instead:
        # code -> link, under the platform scope, pk = "platform|<first two characters of the code>".
        ContainerSpec("links", "brandId", ("memberId", "createdAt")),
        ContainerSpec("link_codes", "pk", ()),
        # Pre-aggregated tracking counters, pk = "<brand>|<yyyy-mm>" (see shared/tracking/counters.py).
        ContainerSpec("tracking_counters", "pk", ("memberId", "day")),
        # Visits kept for attribution, pk = "<brand>|<visitor key>", expiring after the attribution window.
        ContainerSpec("tracking_events", "pk", ("visitorKey", "at"), ttl_enabled=True),
        # Tracking events already applied (idempotency), pk = "<brand>|<yyyy-mm-dd>", expiring.
        ContainerSpec("tracking_seen", "pk", (), ttl_enabled=True),
        # Orders from brand platforms, their commissions (the ledger) and customers' dedicated members.
        ContainerSpec("orders", "brandId", ("memberId", "placedAt", "customerKey")),
        ContainerSpec("commissions", "brandId", ("memberId", "state", "createdAt")),
        ContainerSpec("dedicated_members", "brandId", ("memberId",)),
        # The store rules' turns: one counter per store, the next of its listed members (shared/sales/dedicated.py).
        ContainerSpec("dedicated_rotations", "brandId", ()),
        # Store vouchers members issue for their contacts; the id is the keyed hash of the code.
        ContainerSpec("vouchers", "brandId", ("memberId", "contactId", "issuedAt")),
        # The brand's catalog (shared/catalog): products under the brand's own ids, the category tree as
        # one document, full sync runs and the ids their batches mentioned (expiring), physical stores.
        # `search` is set on active products only (shared/catalog/search_fields.py), so the catalog's
        # views read its paths without a status filter.
        ContainerSpec("products", "brandId", ("status", "itemGroupId", "updatedAt", "link", "search.title",
                                              "search.price", "search.currency", "search.availability"),
                      text_paths=("search.text",), array_paths=("search.categories", "search.codes")),
        ContainerSpec("catalog_trees", "brandId", ()),
        ContainerSpec("catalog_runs", "brandId", ("runId", "kind"), ttl_enabled=True),
        ContainerSpec("stores", "brandId", ("city", "status")),
        # A member's owned and recommended products, one document per member (member data).
        ContainerSpec("member_products", "brandId", ()),
        # JSON Lines catalog uploads (shared/catalog/uploads.py): each upload's progress and counts, and one
        # record per processed chunk with its rejected lines, expiring (ttl).
        ContainerSpec("catalog_uploads", "brandId", ("runId", "kind"), ttl_enabled=True),
        # Conversations (shared/conversations): visitors' requests (`pendingSince` set while one waits: the
        # waiting list's order), the conversations, each participant's inbox entries ("<party>|<last
        # activity>" keys: a party's list, newest first) and the messages, partitioned by conversation
        # (pk "<brandId>|<conversationId>": a brand's messages never fill one logical partition).
        # The directory's counted map cells of low zooms (shared/directory/grid.py): one document per zoom.
        ContainerSpec("directory_grids", "brandId", ()),
        ContainerSpec("conversation_requests", "brandId", ("visitorId", "state", "pendingSince", "handledAt")),
        ContainerSpec("conversations", "brandId", ("lastMessageAt", "memberId", "storeId")),
        ContainerSpec("inbox", "brandId", ("key", "owner")),
        ContainerSpec("messages", "pk", ("seq",)),
        # Conversation photos and videos (shared/media): one record per upload, by its owner ("<kind>:<id>"),
        # and `gcDueAt` set while no message has claimed it (the hourly purge's due list).
        ContainerSpec("conversation_media", "brandId", ("owner", "gcDueAt")),
        # Conversation metrics (shared/conversations/metrics.py): counters per scope ("brand", a member, a
        # store) and UTC day, pk "<brandId>|<scope>|<scopeId>" (a scope's days: one partition, one query),
        # and each conversation's active days with the changes decided but not yet applied.
        ContainerSpec("conversation_stats", "pk", ("day",)),
        ContainerSpec("conversation_metric_state", "brandId", ()),
        # A client's conversations with each member, for attribution (shared/conversations/attribution.py).
        ContainerSpec("conversation_keys", "brandId", ("key", "lastAt")),
        # The hot list (shared/conversations/hot_list.py): one document per keyed visitor, expiring (ttl).
        ContainerSpec("hot_visitors", "brandId", ("lastSeenAt",), ttl_enabled=True),
        # Member push notifications (shared/notifications): each member's devices (member data), and the
        # (message, device) pairs already sent, expiring (ttl), which make the queue handler idempotent.
        ContainerSpec("push_subscriptions", "brandId", ("memberId",)),
        ContainerSpec("push_deliveries", "brandId", (), ttl_enabled=True),
    )
}


def container(name: str) -> ContainerSpec:
    """The declaration of one container; raises KeyError for an undeclared name."""
    return CONTAINERS[name]
