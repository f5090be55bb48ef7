"""Relay connections over keyset pages: cursors carry the sort key, not an offset."""

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from strawberry import relay

from models.problems import Rejected, invalid

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

N = TypeVar("N", bound=relay.Node)
M = TypeVar("M")


def page_size(first: int) -> int:
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise Rejected(invalid("first", f"first must be 0 to {MAX_PAGE_SIZE}, not {first}."))
    return first


def encode_cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def decode_cursor(cursor: str | None, key_type: type = str) -> Any:
    """The sort key a cursor carries; `key_type` is the type the connection pages on."""
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, RecursionError):
        key = None
    if type(key) is not key_type or (isinstance(key, int) and not 0 <= key < 2**63):  # int keys are BSON int64
        raise Rejected(invalid("after", "after must be a cursor this API returned."))
    return key


def page_info(edges: Sequence[Any], more: bool, has_previous: bool = False) -> relay.PageInfo:
    """The page info of `edges` (anything with a `cursor`), `more` saying whether more follow."""
    return relay.PageInfo(
        has_next_page=more,
        has_previous_page=has_previous,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )


def connection(items: list[M], more: bool, key: Callable[[M], Any], to_node: Callable[[M], N]) -> relay.Connection[N]:
    edges = [relay.Edge(cursor=encode_cursor(key(item)), node=to_node(item)) for item in items]
    return relay.Connection(edges=edges, page_info=page_info(edges, more))
