"""A visitor's activity: its hits and the offline rows tied to it, merged in time order.

The rows tied to a visitor are those whose `visitorId` is its id: rows linked by
transaction id to one of its snapshots, and visitor-ID rows. At the same moment a hit
comes before a row; hits keep their collection order, rows their job and line order.
A position in that order is the page cursor, so each side is read from its own index
(hits by visitor and seq, rows by visitor and time) after the cursor.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from models.hits import StoredHit
from models.offline_rows import OfflineRow
from models.problems import Rejected, invalid

HIT, ROW = 0, 1  # the order of the two kinds at one moment
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)
HITS_ORDER = (("seq", 1),)  # a visitor's hits are in time order by seq: an older hit is refused
ROWS_ORDER = (("timestamp", 1), ("_id", 1))

Activity = StoredHit | OfflineRow
Doc = dict[str, Any]


@dataclass(frozen=True, order=True)
class Position:
    """Where an item of activity stands: its time (in ms, as stored), kind, and key (a
    hit's seq, a row's id)."""

    at_ms: int
    kind: int
    key: int | str

    @property
    def at(self) -> datetime:
        return EPOCH + self.at_ms * ONE_MS

    def to_cursor(self) -> list[Any]:
        return [self.at_ms, self.kind, self.key]

    @classmethod
    def from_cursor(cls, value: Any) -> "Position":
        """The position a cursor this API returned holds; anything else is refused."""
        if isinstance(value, list) and len(value) == 3 and all(type(v) is int for v in value[:2]):
            at_ms, kind, key = value
            if (kind == HIT and type(key) is int) or (kind == ROW and type(key) is str):
                return cls(at_ms, kind, key)
        raise Rejected(invalid("after", "after must be a cursor this API returned."))


def position(item: Activity) -> Position:
    if isinstance(item, StoredHit):
        return Position((item.at - EPOCH) // ONE_MS, HIT, item.seq)
    return Position((item.at - EPOCH) // ONE_MS, ROW, item.id)


def hits_query(rsid: str, visitor_id: str, latest_seq: int, after: Position | None) -> Doc:
    """The visitor's hits after `after`, up to the latest its state counts."""
    query: Doc = {"rsid": rsid, "visitorId": visitor_id, "seq": {"$lte": latest_seq}}
    if after is None:
        return query
    if after.kind == HIT:
        return query | {"seq": {"$gt": after.key, "$lte": latest_seq}}
    return query | {"timestamp": {"$gt": after.at}}  # hits at the row's moment came before it


def rows_query(rsid: str, visitor_id: str, after: Position | None) -> Doc:
    """The offline rows tied to the visitor after `after`."""
    query: Doc = {"rsid": rsid, "visitorId": visitor_id}
    if after is None:
        return query
    if after.kind == HIT:
        return query | {"timestamp": {"$gte": after.at}}  # rows at the hit's moment come after it
    return {"$and": [query, {"$or": [{"timestamp": {"$gt": after.at}}, {"timestamp": after.at, "_id": {"$gt": after.key}}]}]}


def merge(hits: list[StoredHit], rows: list[OfflineRow], first: int, more: bool) -> tuple[list[Activity], bool]:
    """The first `first` of both pages in time order, and whether more follow (`more`:
    whether either side had more than its page)."""
    merged: list[Activity] = sorted([*hits, *rows], key=position)
    return merged[:first], more or len(merged) > first
