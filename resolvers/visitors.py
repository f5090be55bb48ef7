"""Reading online data: visitors, their hits, and transaction snapshots."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from models import clock, store
from models.companies import Caller, Role
from models.hits import StoredHit
from models.keys import snapshot_key, visitor_key
from models.profiles import VisitorState
from models.snapshots import Snapshot, TransactionStatus, status_query
from models.store import CompanyStore, Doc, PageQuery, Store, keyset
from resolvers.api_keys import tenant

T = TypeVar("T")


def _reader(db: Store, caller: Caller | None) -> CompanyStore:
    """Every read goes through the caller's company view: another company's ids find nothing."""
    return tenant(db, caller, Role.READER)


async def get_visitor(db: Store, caller: Caller | None, rsid: str, visitor_id: str) -> VisitorState | None:
    doc = await _reader(db, caller).find_one(store.VISITORS, {"_id": visitor_key(rsid, visitor_id)})
    return VisitorState.from_doc(doc) if doc else None


async def _by_ids(db: Store, caller: Caller | None, collection: str, ids: list[str], from_doc: Callable[[Doc], T]) -> list[T | None]:
    """Documents by `_id`, in the order asked; None where the caller has none."""
    docs = await _reader(db, caller).find_many(collection, {"_id": {"$in": list(ids)}})
    found = {doc["_id"]: from_doc(doc) for doc in docs}
    return [found.get(i) for i in ids]


async def get_visitors(db: Store, caller: Caller | None, keys: list[str]) -> list[VisitorState | None]:
    """Visitors by their keys ('rsid|visitorId')."""
    return await _by_ids(db, caller, store.VISITORS, keys, VisitorState.from_doc)


async def page_visitors(db: Store, caller: Caller | None, rsid: str, after: str | None, first: int) -> tuple[list[VisitorState], bool]:
    docs, more = await _reader(db, caller).find_page(store.VISITORS, {"rsid": rsid}, "visitorId", False, after, first)
    return [VisitorState.from_doc(doc) for doc in docs], more


async def page_hits(db: Store, caller: Caller | None, visitor: VisitorState, after: int | None, first: int) -> tuple[list[StoredHit], bool]:
    """A visitor's hits, newest first, up to the latest its state counts."""
    query = {"rsid": visitor.rsid, "visitorId": visitor.visitor_id, "seq": {"$lte": visitor.seq}}
    docs, more = await _reader(db, caller).find_page(store.HITS, query, "seq", True, after, first)
    return [StoredHit.from_doc(doc) for doc in docs], more


async def get_hits(db: Store, caller: Caller | None, ids: list[str]) -> list[StoredHit | None]:
    return await _by_ids(db, caller, store.HITS, ids, StoredHit.from_doc)


async def get_transaction(db: Store, caller: Caller | None, rsid: str, transaction_id: str) -> Snapshot | None:
    doc = await _reader(db, caller).find_one(store.SNAPSHOTS, {"_id": snapshot_key(rsid, transaction_id)})
    return Snapshot.from_doc(doc) if doc else None


async def get_transactions(db: Store, caller: Caller | None, ids: list[str]) -> list[Snapshot | None]:
    return await _by_ids(db, caller, store.SNAPSHOTS, ids, Snapshot.from_doc)


async def page_transactions(
    db: Store,
    caller: Caller | None,
    rsid: str,
    after: str | None,
    first: int,
    status: TransactionStatus | None = None,
    visitor_id: str | None = None,
) -> tuple[list[Snapshot], bool]:
    """Snapshots by transaction id; `status` is judged now, so an expired one shows as EXPIRED
    even before the TTL monitor removes it."""
    query = {"rsid": rsid} | (status_query(status, clock.now()) if status else {})
    if visitor_id is not None:
        query["visitorId"] = visitor_id
    docs, more = await _reader(db, caller).find_page(store.SNAPSHOTS, query, "transactionId", False, after, first)
    return [Snapshot.from_doc(doc) for doc in docs], more


@dataclass(frozen=True)
class TransactionsPage:
    """A page of one visitor's transactions, by transaction id (a DataLoader key)."""

    rsid: str
    visitor_id: str
    after: str | None
    first: int


async def transactions_pages(db: Store, caller: Caller | None, pages: list[TransactionsPage]) -> list[tuple[list[Snapshot], bool]]:
    """The transactions of several visitors in one round trip."""
    queries = [
        PageQuery(
            store.SNAPSHOTS,
            keyset({"rsid": p.rsid, "visitorId": p.visitor_id}, "transactionId", False, p.after),
            (("transactionId", 1),),
            p.first,
        )
        for p in pages
    ]
    found = await _reader(db, caller).find_pages(queries)
    return [([Snapshot.from_doc(doc) for doc in docs], more) for docs, more in found]
