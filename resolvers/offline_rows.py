"""Reading offline rows: by id, the rows linked to a transaction, and a visitor's activity
(its hits and the rows tied to it). The pages of many parents are read in one round trip,
for the DataLoaders of a list's nested connections."""

from dataclasses import dataclass

from models import activity, store
from models.activity import Activity, Position
from models.companies import Caller, Role
from models.hits import StoredHit
from models.offline_rows import Link, OfflineRow
from models.store import PageQuery, Store
from resolvers.api_keys import tenant


@dataclass(frozen=True)
class LinkedRowsPage:
    """A page of the rows linked to one transaction, in job and line order."""

    rsid: str
    transaction_id: str
    after: str | None
    first: int


@dataclass(frozen=True)
class ActivityPage:
    """A page of one visitor's activity, in time order; `latest_seq` is the last hit its state counts."""

    rsid: str
    visitor_id: str
    latest_seq: int
    after: Position | None
    first: int


async def get_rows(db: Store, caller: Caller | None, ids: list[str]) -> list[OfflineRow | None]:
    docs = await tenant(db, caller, Role.READER).find_many(store.ROWS, {"_id": {"$in": list(ids)}})
    found = {doc["_id"]: OfflineRow.from_doc(doc) for doc in docs}
    return [found.get(i) for i in ids]


async def linked_rows_pages(db: Store, caller: Caller | None, pages: list[LinkedRowsPage]) -> list[tuple[list[OfflineRow], bool]]:
    queries = [
        PageQuery.keyset(
            store.ROWS, {"rsid": p.rsid, "transactionId": p.transaction_id, "link": Link.TRANSACTION.value}, "_id", False, p.after, p.first
        )
        for p in pages
    ]
    found = await tenant(db, caller, Role.READER).find_pages(queries)
    return [([OfflineRow.from_doc(doc) for doc in docs], more) for docs, more in found]


async def activity_pages(db: Store, caller: Caller | None, pages: list[ActivityPage]) -> list[tuple[list[Activity], bool]]:
    queries = []
    for p in pages:
        queries.append(
            PageQuery(store.HITS, activity.hits_query(p.rsid, p.visitor_id, p.latest_seq, p.after), activity.HITS_ORDER, p.first)
        )
        queries.append(PageQuery(store.ROWS, activity.rows_query(p.rsid, p.visitor_id, p.after), activity.ROWS_ORDER, p.first))
    found = await tenant(db, caller, Role.READER).find_pages(queries)
    merged = []
    for index, page in enumerate(pages):
        (hits, more_hits), (rows, more_rows) = found[2 * index], found[2 * index + 1]
        merged.append(
            activity.merge(
                [StoredHit.from_doc(doc) for doc in hits], [OfflineRow.from_doc(doc) for doc in rows], page.first, more_hits or more_rows
            )
        )
    return merged
