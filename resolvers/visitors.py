"""Reading online data: visitors, their hits, and transaction snapshots."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from models import clock, store
from models.companies import Caller, Role
from models.hits import StoredHit
from models.keys import hit_key, snapshot_key, visitor_key
from models.profiles import WITHOUT_HITS, VisitorState
from models.snapshots import Snapshot, TransactionStatus, status_query
from models.store import CompanyStore, Doc, PageQuery, Store
from resolvers.api_keys import tenant

T = TypeVar("T")


def _reader(db: Store, caller: Caller | None) -> CompanyStore:
    """Every read goes through the caller's company view: another company's ids find nothing."""
    return tenant(db, caller, Role.READER)


async def get_visitor(db: Store, caller: Caller | None, rsid: str, visitor_id: str) -> VisitorState | None:
    scope = _reader(db, caller)
    doc = await scope.find_one(store.VISITORS, {"_id": visitor_key(scope.company_id, rsid, visitor_id)}, WITHOUT_HITS)
    return VisitorState.from_doc(doc) if doc else None


async def _by_ids(
    db: Store, caller: Caller | None, collection: str, ids: list[str], from_doc: Callable[[Doc], T], projection: Doc | None = None
) -> list[T | None]:
    """Documents by `_id`, in the order asked; None where the caller has none."""
    docs = await _reader(db, caller).find_many(collection, {"_id": {"$in": list(ids)}}, projection=projection)
    found = {doc["_id"]: from_doc(doc) for doc in docs}
    return [found.get(i) for i in ids]


async def get_visitors(db: Store, caller: Caller | None, keys: list[str]) -> list[VisitorState | None]:
    """Visitors by their keys ('companyId|rsid|visitorId')."""
    return await _by_ids(db, caller, store.VISITORS, keys, VisitorState.from_doc, WITHOUT_HITS)


async def page_visitors(db: Store, caller: Caller | None, rsid: str, after: str | None, first: int) -> tuple[list[VisitorState], bool]:
    docs, more = await _reader(db, caller).find_page(store.VISITORS, {"rsid": rsid}, "visitorId", False, after, first, WITHOUT_HITS)
    return [VisitorState.from_doc(doc) for doc in docs], more


async def page_hits(db: Store, caller: Caller | None, visitor: VisitorState, after: int | None, first: int) -> tuple[list[StoredHit], bool]:
    """A visitor's hits, newest first, up to the latest its state counts."""
    query = {"rsid": visitor.rsid, "visitorId": visitor.visitor_id, "seq": {"$lte": visitor.seq}}
    docs, more = await _reader(db, caller).find_page(store.HITS, query, "seq", True, after, first)
    return [StoredHit.from_doc(doc) for doc in docs], more


@dataclass(frozen=True)
class HitPage:
    """A page of one visitor's hits, newest first: up to `first` below `after` (a seq)."""

    rsid: str
    visitor_id: str
    seq: int  # the latest hit the visitor's state counts
    after: int | None
    first: int

    def seqs(self) -> range:
        """The seqs on this page and the one after it (which says whether more follow). A
        visitor's hits have the seqs 1 to its state's, so this is a range of `first` + 1
        seqs at most, whatever the visitor's history holds."""
        top = self.seq if self.after is None else min(self.seq, self.after - 1)
        return range(top, max(top - self.first - 1, 0), -1)


async def page_hits_of_many(db: Store, caller: Caller | None, pages: list[HitPage]) -> list[tuple[list[StoredHit], bool]]:
    """Pages of several visitors' hits from one store read by `_id` (a hit's id follows from
    its visitor and seq), bounded by the pages' sizes. A hit counted but not stored yet
    (only after a failure, until its visitor's next call) leaves a gap in its page."""
    scope = _reader(db, caller)
    wanted = [[hit_key(scope.company_id, p.rsid, p.visitor_id, seq) for seq in p.seqs()] for p in pages]
    ids = [key for keys in wanted for key in keys]
    found = {doc["_id"]: doc for doc in await scope.find_many(store.HITS, {"_id": {"$in": ids}})} if ids else {}
    answers = []
    for page, keys in zip(pages, wanted, strict=True):
        hits = [StoredHit.from_doc(found[key]) for key in keys if key in found]
        answers.append((hits[: page.first], len(hits) > page.first))
    return answers


async def get_hits(db: Store, caller: Caller | None, ids: list[str]) -> list[StoredHit | None]:
    return await _by_ids(db, caller, store.HITS, ids, StoredHit.from_doc)


async def get_transaction(db: Store, caller: Caller | None, rsid: str, transaction_id: str) -> Snapshot | None:
    scope = _reader(db, caller)
    doc = await scope.find_one(store.SNAPSHOTS, {"_id": snapshot_key(scope.company_id, rsid, transaction_id)})
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
) -> tuple[list[Snapshot], bool]:
    """Snapshots by transaction id; `status` is judged now, so an expired one shows as EXPIRED
    even before the TTL monitor removes it."""
    query = {"rsid": rsid} | (status_query(status, clock.now()) if status else {})
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
        PageQuery.keyset(store.SNAPSHOTS, {"rsid": p.rsid, "visitorId": p.visitor_id}, "transactionId", False, p.after, p.first)
        for p in pages
    ]
    found = await _reader(db, caller).find_pages(queries)
    return [([Snapshot.from_doc(doc) for doc in docs], more) for docs, more in found]
