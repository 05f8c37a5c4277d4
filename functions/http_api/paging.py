"""The two query parameters of every paged list: `continuation` and `pageSize`, declared once.

A route takes `page: PagingQuery` (or a `paging_query(...)` of its own bounds) and passes `page.page_size`
and `page.continuation` to its service. The names, bounds and validation errors are those the routes
declared one by one before (a bad `pageSize` is a 422 naming `pageSize`); only the bounds differ from
list to list, so they are arguments here, never a second declaration.

No `from __future__ import annotations` in this module: the dependency's parameters are annotated
with the bounds given to `paging_query(...)`, which FastAPI must read as objects, not as names to look up.
"""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query

CONTINUATION = "Token from the previous page"


@dataclass(frozen=True)
class Paging:
    """Where a page starts (None: the first page) and how many items it holds at most."""

    continuation: str | None
    page_size: int


def paging_query(*, default: int = 50, largest: int = 200, longest_token: int | None = None) -> Any:
    """The `Annotated[Paging, Depends(...)]` type for a list with these bounds."""

    def read_paging(
        continuation: Annotated[str | None, Query(description=CONTINUATION, max_length=longest_token)] = None,
        page_size: Annotated[int, Query(alias="pageSize", ge=1, le=largest)] = default,
    ) -> Paging:
        return Paging(continuation=continuation, page_size=page_size)

    return Annotated[Paging, Depends(read_paging)]


# Most lists: a Manager's or a member's, 50 a page, at most 200.
PagingQuery = paging_query()
# A person's own rights requests (app, widget, contact rights page): 20 a page, at most 100.
RequestPagingQuery = paging_query(default=20, largest=100)
# Lists whose items cost more to build (a brand's share links, orders): 50 a page, at most 100.
ShortPagingQuery = paging_query(largest=100)
