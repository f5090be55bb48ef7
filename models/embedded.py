"""The embedded store: mongomock, made fit to serve a server that runs at once.

mongomock keeps documents in memory and answers like MongoDB, but it scans every
document for every query, copies every match before it applies `limit`, re-checks every
TTL-indexed document on every read and insert, and never yields the event loop. This
module keeps mongomock's answers and gives it what a server has:

- Indexes. The `_id` look-up goes straight to the document; every other index declared
  with `create_index` is kept in key order (a sorted list of the indexed values, the
  document's position and its `_id`), maintained wherever mongomock stores or removes a
  document. A query with equality on an index's leading fields, and a range or a sort on
  the next one, touches only the documents in that range, in order; with a `limit` it
  copies only those it returns; an `$in` of strings reads one range a value. Ties and
  unsorted results come in mongomock's natural (insertion) order, as without the index.
  Each value is kept with its comparison type, so a field holding strings and nulls (an
  offline row's transaction id) stays indexed; arrays or documents in an indexed field
  retire that index, and mongomock's scan answers instead.
- A TTL monitor that runs once a minute, as a server's does (reads check expiry
  themselves anyway), instead of on every call: each run reads every TTL-indexed document.
- Its own thread. mongomock is not thread-safe, so every call runs on one worker thread,
  one after the other, and the event loop stays free meanwhile: a long scan or a big
  write never stalls other requests. A call is never interleaved with another, which
  the versioned replace below relies on.
- Less memory per document: the strings a document repeats from others (field names,
  report suites, days, dimension values) are kept once.

Aggregation (reports, batched pages) gets the same treatment: mongomock's `aggregate`
first copies the whole collection through a cursor whose every step copies the rest of
its results (quadratic: 98 s for 100,000 hits), then filters. Here the leading `$match`
picks documents as `find` does, and the pipeline runs on those alone. Its `$group` sorts
its input with a slow comparison to find equal keys; here equal keys are found by hash
(keys that cannot be hashed, such as documents, still go mongomock's way). `$unionWith`,
which mongomock lacks and reports use to put hits and offline rows in one pipeline, is
added.

`EmbeddedDatabase` is the small part of Motor's asynchronous API that models/store.py
uses. The speed-ups patch private internals of the pinned mongomock version
(pyproject.toml), so `database()` checks that they are there and fails with a clear
message at start-up if they are not.
"""

import asyncio
import copy
import functools
import gc
import itertools
import sys
import time
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from bson import ObjectId
from bson.errors import InvalidDocument
from mongomock import filtering
from sortedcontainers import SortedList

MONGOMOCK_VERSION = "4.3.0"
TTL_SWEEP_SECONDS = 60.0  # as often as a server's TTL monitor: one sweep reads every TTL-indexed document
INTERNED_LENGTH = 16  # ids, days and most dimension values repeat; longer strings (ids of hits, digests) rarely do, and keeping those once would cost more than it saves
_patched = False

T = TypeVar("T")
Doc = dict[str, Any]


class EmbeddedStoreUnsupported(RuntimeError):
    """The installed mongomock lacks the internals the embedded store patches."""


def database(name: str) -> "EmbeddedDatabase":
    """A fresh in-memory database, with mongomock's slow paths replaced."""
    _patch_mongomock()
    _collect_less_often()
    # The store's thread and the event loop share the GIL: handing it over every 1 ms
    # instead of 5 keeps a request that only needs the loop (such as /healthz) from waiting
    # out a long store call (measured: worst /healthz 115-149 ms, then 69-80 ms).
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_SECONDS))
    import mongomock

    return EmbeddedDatabase(mongomock.MongoClient(tz_aware=True)[name])


SWITCH_SECONDS = 0.001
FULL_COLLECTION_EVERY = 1000  # collections of the middle generation; Python's default is 10


def _collect_less_often() -> None:
    """The embedded store keeps every document in the process: millions of long-lived
    objects that a full garbage collection walks and never frees. Measured at 50,000
    hits, full collections took 29% of collection time (32 of them, up to 233 ms each).
    Young collections stay as frequent (they free what requests leave behind); full ones
    run a hundred times less often."""
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, max(full, FULL_COLLECTION_EVERY))


class EmbeddedDatabase:
    """A mongomock database behind one worker thread, awaited like Motor's."""

    def __init__(self, db: Any) -> None:
        self._db = db
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedded-store")

    async def run(self, work: Callable[[], T]) -> T:
        """Run `work` on the store's thread, after every call submitted before it."""
        return await asyncio.get_running_loop().run_in_executor(self._worker, work)

    def __getitem__(self, name: str) -> "EmbeddedCollection":
        return EmbeddedCollection(self, self._db[name])

    async def command(self, name: str) -> Doc:
        if name == "ping":
            # Answered at once, as a server answers a ping beside the operations it runs: queued
            # behind them it would measure the queue, not whether the store is there.
            return {"ok": 1.0}
        result: Doc = await self.run(lambda: self._db.command(name))
        return result

    async def replace_versioned(self, collection: str, docs: list[Doc]) -> set[Any]:
        return await self.run(lambda: _replace_versioned(self._db[collection], docs))

    async def set_fields(self, collection: str, changes: dict[Any, Doc], scope: Doc, upsert: bool) -> None:
        await self.run(lambda: _set_fields(self._db[collection], changes, scope, upsert))

    def close(self) -> None:
        self._worker.shutdown(wait=False)


class EmbeddedCollection:
    def __init__(self, db: EmbeddedDatabase, collection: Any) -> None:
        self._db, self._collection = db, collection

    async def create_indexes(self, indexes: list[Any]) -> list[str]:
        return await self._db.run(lambda: self._collection.create_indexes(indexes))

    async def insert_one(self, doc: Doc) -> Any:
        return await self._db.run(lambda: self._collection.insert_one(doc))

    async def insert_many(self, docs: list[Doc], ordered: bool = True) -> Any:
        return await self._db.run(lambda: self._collection.insert_many(docs, ordered=ordered))

    async def find_one(self, query: Doc, projection: Doc | None = None) -> Doc | None:
        return await self._db.run(lambda: self._collection.find_one(query, _copy(projection)))

    def find(self, query: Doc, projection: Doc | None = None) -> "EmbeddedCursor":
        return EmbeddedCursor(self._db, self._collection, query, _copy(projection))

    async def count_documents(self, query: Doc) -> int:
        count: int = await self._db.run(lambda: self._collection.count_documents(query))
        return count

    async def update_one(self, query: Doc, update: Doc, upsert: bool = False) -> Any:
        return await self._db.run(lambda: self._collection.update_one(query, update, upsert=upsert))

    async def delete_many(self, query: Doc) -> Any:
        return await self._db.run(lambda: self._collection.delete_many(query))

    def aggregate(self, pipeline: list[Doc]) -> "EmbeddedAggregation":
        return EmbeddedAggregation(self._db, self._collection, pipeline)


class EmbeddedAggregation:
    """An aggregation whose result is read on the store's thread, as Motor's cursor is read."""

    def __init__(self, db: EmbeddedDatabase, collection: Any, pipeline: list[Doc]) -> None:
        self._db, self._collection, self._pipeline = db, collection, pipeline

    async def to_list(self, length: int | None = None) -> list[Doc]:
        return await self._db.run(lambda: list(self._collection.aggregate(self._pipeline)))


class EmbeddedCursor:
    def __init__(self, db: EmbeddedDatabase, collection: Any, query: Doc, projection: Doc | None) -> None:
        self._db, self._collection, self._query, self._projection = db, collection, query, projection
        self._sort: Any = None
        self._limit = 0

    def sort(self, key: Any, direction: int | None = None) -> "EmbeddedCursor":
        self._sort = (key, direction)
        return self

    def limit(self, count: int) -> "EmbeddedCursor":
        self._limit = count
        return self

    async def to_list(self, length: int | None = None) -> list[Doc]:
        def fetch() -> list[Doc]:
            cursor = self._collection.find(self._query, self._projection)
            if self._sort is not None:
                cursor = cursor.sort(*self._sort)
            # All at once: mongomock's own iteration slices the rest of its results again at
            # every document, which makes reading a large result quadratic.
            return list(cursor.limit(self._limit)._compute_results(with_limit_and_skip=True))

        return await self._db.run(fetch)


def _copy(projection: Doc | None) -> Doc | None:
    # mongomock changes the projection it is given (it sets `_id`): callers' stay as they were.
    return dict(projection) if projection is not None else None


def _replace_versioned(collection: Any, docs: list[Doc]) -> set[Any]:
    """Write each doc whose stored copy is still the version it was read at (and of the
    same company); return the ids of the others. Versions are read off the stored
    documents and the documents swapped in one delete and one insert, instead of a deep
    copy and an update pass per replace. It runs on the store's thread, uninterrupted."""
    held = collection._store._documents
    conflicts = {doc["_id"] for doc in docs if not _next_version(held.get(doc["_id"]), doc)}
    writes = [doc for doc in docs if doc["_id"] not in conflicts]
    for doc in writes:
        if doc["_id"] in held:
            del collection._store[doc["_id"]]
    if writes:
        collection.insert_many(writes)
    return conflicts


def _set_fields(collection: Any, changes: dict[Any, Doc], scope: Doc, upsert: bool) -> None:
    """`$set` of plain fields by `_id`, in one pass on the store's thread: each stored document
    `scope` (a filter) matches is stored again with the fields set (indexed again as it is),
    instead of an update_one, its query and its deep copies per document. With `upsert`, a
    missing one is made of its `_id`, `scope` and the fields."""
    store = collection._store
    held = store._documents
    for doc_id, fields in changes.items():
        stored = held.get(doc_id)
        if stored is None:
            if upsert:  # made of the filter's equalities, as a server's upsert is
                collection.insert_one({"_id": doc_id, **{k: v for k, v in scope.items() if not k.startswith("$")}, **fields})
            continue
        if _applies(scope, stored):
            store[doc_id] = {**stored, **fields}


def _next_version(stored: Doc | None, doc: Doc) -> bool:
    """Whether `doc` is the next version of `stored` (by the same company), or a new document."""
    if stored is None:
        return bool(doc["version"] == 1)
    return bool(stored.get("version") == doc["version"] - 1 and stored.get("companyId") == doc.get("companyId"))


# --- indexes -----------------------------------------------------------------------------


class _Top:
    """Greater than any value: closes a range of index entries after a given prefix."""

    def __lt__(self, other: object) -> bool:
        return False

    def __gt__(self, other: object) -> bool:
        return True


_TOP = _Top()
_RANGES = {"$gt", "$gte", "$lt", "$lte"}


def _bracket(value: Any) -> int | None:
    """MongoDB's comparison type of an indexable scalar (values of one type compare as in
    Python), or None for a value the index does not take (arrays, documents, ...)."""
    if value is None:
        return 5
    if isinstance(value, bool):
        return 40
    if isinstance(value, int | float):
        return 10
    if isinstance(value, str):
        return 15
    if isinstance(value, ObjectId):
        return 35
    if isinstance(value, datetime):
        return 45
    return None


class _Index:
    """One declared index of a collection: entries ((bracket, value)..., position, _id) in
    order. Each value goes with its comparison type (`_bracket`), so that values of several
    types (a string id, or none) order as MongoDB orders them, and stay in one index."""

    def __init__(self, fields: list[str]) -> None:
        self.fields = fields
        self.entries: SortedList = SortedList()
        self.usable = all("." not in f for f in fields)  # top-level fields only

    def entry(self, doc: Doc, position: int) -> tuple[Any, ...] | None:
        key = []
        for value in map(doc.get, self.fields):
            bracket = _bracket(value)
            if bracket is None:  # an array or a document: not in a sorted index of scalars
                self.retire()
                return None
            key.append((bracket, value))
        return (*key, position, doc["_id"])

    def add(self, doc: Doc, position: int) -> None:
        entry = self.entry(doc, position) if self.usable else None
        if entry is not None and entry not in self.entries:  # a rollback may store a document again
            self.entries.add(entry)

    def remove(self, doc: Doc, position: int) -> None:
        entry = self.entry(doc, position) if self.usable else None
        if entry is not None:
            self.entries.discard(entry)

    def retire(self) -> None:
        self.usable = False
        self.entries = SortedList()


class _Catalogue:
    """The indexes of one mongomock collection store, and each document's position in it."""

    def __init__(self) -> None:
        self.indexes: dict[str, _Index] = {}
        self.positions: dict[Any, int] = {}
        self.next_position = itertools.count()

    def added(self, doc: Doc) -> None:
        position = self.positions.get(doc["_id"])
        if position is None:
            position = self.positions[doc["_id"]] = next(self.next_position)
        for index in self.indexes.values():
            index.add(doc, position)

    def removed(self, doc: Doc, replaced: bool = False) -> None:
        """`doc` left the store, or is being `replaced` under its `_id` (which keeps its position)."""
        position = self.positions[doc["_id"]] if replaced else self.positions.pop(doc["_id"])
        for index in self.indexes.values():
            index.remove(doc, position)

    def entries_of(self, doc: Doc) -> list[tuple[_Index, tuple[Any, ...] | None]]:
        position = self.positions[doc["_id"]]
        return [(index, index.entry(doc, position) if index.usable else None) for index in self.indexes.values()]

    def reindexed(self, entries: list[tuple[_Index, tuple[Any, ...] | None]], doc: Doc | None) -> None:
        """Replace a document's `entries` (taken before it changed in place) with its current ones."""
        for index, entry in entries:
            if entry is not None:
                index.entries.discard(entry)
            if doc is not None and index.usable:
                index.add(doc, self.positions[doc["_id"]])


def _catalogue(store: Any) -> _Catalogue:
    catalogue: _Catalogue | None = store.__dict__.get("_odg_catalogue")
    if catalogue is None:
        catalogue = store.__dict__["_odg_catalogue"] = _Catalogue()
    return catalogue


def _conditions(spec: Doc) -> dict[str, list[Any]]:
    """The conditions every matching document meets, by field (top level and `$and`)."""
    found: dict[str, list[Any]] = {}
    for key, condition in spec.items():
        if key == "$and" and isinstance(condition, list):
            for part in condition:
                if isinstance(part, dict):
                    for field, more in _conditions(part).items():
                        found.setdefault(field, []).extend(more)
        elif not key.startswith("$"):
            found.setdefault(key, []).append(condition)
    return found


def _equal_to(conditions: list[Any]) -> str | None:
    """The string a field must equal, if its conditions say so (strings only: mongomock's
    equality on numbers also takes booleans, which an index keeps apart)."""
    for condition in conditions:
        if isinstance(condition, dict) and list(condition) == ["$eq"]:
            condition = condition["$eq"]
        if isinstance(condition, str):
            return condition
    return None


def _bounds(prefix: tuple[Any, ...], conditions: list[Any]) -> tuple[tuple[Any, ...], tuple[Any, ...]] | None:
    """The entries a field's range conditions allow after `prefix`, as (low, high) keys, or
    None when no document can match (a bound no index entry compares with). Ranges compare
    within one type only (type bracketing), like mongomock's."""
    low, high = prefix, (*prefix, _TOP)
    for condition in conditions:
        if not isinstance(condition, dict):
            continue
        for op, value in condition.items():
            if op not in _RANGES:
                continue
            bracket = _bracket(value)
            if bracket in (None, 5, 40):
                return None
            # A range holds values of its bound's type only.
            low, high = max(low, (*prefix, (bracket,))), min(high, (*prefix, (bracket, _TOP)))
            bound = (bracket, value)
            if op in ("$gt", "$gte"):
                low = max(low, (*prefix, bound, _TOP) if op == "$gt" else (*prefix, bound))
            else:
                high = min(high, (*prefix, bound) if op == "$lt" else (*prefix, bound, _TOP))
    return low, high


_Plan = tuple[_Index, tuple[Any, ...], tuple[Any, ...], bool]  # (index, low, high, whether it gives the order)


def _plan(store: Any, spec: Doc, sort_key: str | None) -> _Plan | None:
    """The index to read a query through: (index, low, high, whether it gives the order of
    `sort_key`), or None to let mongomock scan."""
    catalogue = store.__dict__.get("_odg_catalogue")
    if catalogue is None:
        return None
    conditions = _conditions(spec)
    best: tuple[tuple[int, bool], _Index, int] | None = None
    for name, index in catalogue.indexes.items():
        if not index.usable or name not in store.indexes:
            continue
        equal = 0
        while equal < len(index.fields):
            if _equal_to(conditions.get(index.fields[equal], [])) is None:
                break
            equal += 1
        following = index.fields[equal] if equal < len(index.fields) else None
        ordered = sort_key is not None and following == sort_key
        ranged = following in conditions
        if not (equal or ordered or ranged):
            continue
        score = (equal + (ordered or ranged), ordered)
        if best is None or score > best[0]:
            best = (score, index, equal)
    if best is None:
        return None
    _, index, equal = best
    prefix = tuple((15, _equal_to(conditions[f])) for f in index.fields[:equal])  # strings: bracket 15
    following = index.fields[equal] if equal < len(index.fields) else None
    if following is None or following not in conditions:
        return index, prefix, (*prefix, _TOP), following == sort_key and following is not None
    bounds = _bounds(prefix, conditions[following])
    if bounds is None:
        return index, (_TOP,), (_TOP,), True  # nothing can match: an empty range
    return index, bounds[0], bounds[1], following == sort_key


def _in_as_or(query: Doc) -> Doc | None:
    """A query with an `$in` of strings, as an `$or` of equalities that indexes can answer
    one range each (`{"t": {"$in": [a, b]}, ...}` as `{"$or": [{"t": a}, {"t": b}], ...}`)."""
    for field, condition in query.items():
        if field.startswith("$") or not isinstance(condition, dict) or list(condition) != ["$in"]:
            continue
        values = condition["$in"]
        if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
            rest = {k: v for k, v in query.items() if k != field}
            return {**rest, "$or": [{field: v} for v in dict.fromkeys(values)]}
    return None


def _in_order(index: _Index, low: tuple[Any, ...], high: tuple[Any, ...], descending: bool, key_at: int) -> Iterator[Any]:
    """`_id`s of the entries from low to high, ordered on field `key_at` and, where that
    field ties, by position (mongomock's sort is stable over its natural order)."""
    run: list[tuple[Any, ...]] = []
    for entry in index.entries.irange(low, high, reverse=descending):
        if run and entry[key_at] != run[0][key_at]:
            yield from (e[-1] for e in sorted(run, key=lambda e: e[-2]))
            run = []
        run.append(entry)
    yield from (e[-1] for e in sorted(run, key=lambda e: e[-2]))


def _applies(query: Doc, doc: Doc) -> bool:
    """mongomock's filter_applies, with the usual case first: equality of top-level string
    fields, such as the company every query of a CompanyStore holds."""
    for key, wanted in query.items():
        if type(wanted) is not str or type(doc.get(key)) is not str or "." in key or key.startswith("$"):
            return bool(filtering.filter_applies(query, doc))
        if doc[key] != wanted:
            return False
    return True


def _natural(store: Any, ids: Iterable[Any]) -> list[Any]:
    """`ids` in mongomock's natural order (the order documents were first stored in)."""
    positions = _catalogue(store).positions
    return sorted((i for i in ids if i in positions), key=positions.__getitem__)


# --- the patches -------------------------------------------------------------------------


def _patch_mongomock() -> None:
    global _patched
    if _patched:
        return
    from mongomock import aggregate, helpers
    from mongomock import collection as collection_module
    from mongomock.collection import Collection, Cursor
    from mongomock.store import CollectionStore

    _check_internals(Collection, Cursor, CollectionStore, helpers, collection_module)
    _fast_helpers(helpers, collection_module)
    _patch_aggregate(Collection, aggregate)
    _patch_reads(Collection, Cursor, helpers)
    _patch_writes(Collection, CollectionStore, helpers)
    _patched = True


def _candidates(collection: Any, query: Any, sort_key: str | None = None, descending: bool = False) -> Iterator[Doc] | None:
    """The stored documents that may match, through `_id` or an index; None: scan."""
    if not isinstance(query, dict):
        return None
    store = collection._store
    ids = ids_named(query)
    if ids is not None:  # the `_id` part holds by construction
        store._remove_expired_documents()
        docs, rest = store._documents, {k: v for k, v in query.items() if k != "_id"}
        return (docs[i] for i in _natural(store, ids) if i in docs and _applies(rest, docs[i]))
    branches = query.get("$or")
    if isinstance(branches, list) and sort_key is None:
        return _union(store, query, branches)
    spread = _in_as_or(query) if sort_key is None else None
    if spread is not None:
        found = _union(store, spread, spread["$or"])
        if found is not None:
            return found
    plan = _plan(store, query, sort_key)
    return None if plan is None else _through(store, query, plan, sort_key, descending)


def _through(store: Any, query: Doc, plan: _Plan, sort_key: str | None, descending: bool) -> Iterator[Doc]:
    """The documents matching `query` among those `plan`'s index range holds, in the order
    of `sort_key` if the plan gives it."""
    store._remove_expired_documents()
    docs = store._documents
    index, low, high, ordered = plan
    chosen: Iterable[Any]
    if ordered and sort_key is not None:
        chosen = _in_order(index, low, high, descending, index.fields.index(sort_key))
    else:
        chosen = _natural(store, (e[-1] for e in index.entries.irange(low, high)))
    return (docs[i] for i in chosen if i in docs and _applies(query, docs[i]))


def _union(store: Any, query: Doc, branches: list[Any]) -> Iterator[Doc] | None:
    """An `$or` whose every branch (with the rest of the query) reads through an index."""
    rest = {k: v for k, v in query.items() if k != "$or"}
    parts = [{"$and": [rest, branch]} for branch in branches if isinstance(branch, dict)]
    plans = [_plan(store, part, None) for part in parts]
    if not plans or len(parts) < len(branches) or any(plan is None for plan in plans):
        return None
    store._remove_expired_documents()
    docs = store._documents
    # Each candidate is checked against the branches whose range holds it (with the rest
    # of the query), not against every branch: only those can match it.
    found: dict[Any, list[Doc]] = {}
    for part, plan in zip(parts, plans, strict=True):
        if plan is not None:
            for entry in plan[0].entries.irange(plan[1], plan[2]):
                found.setdefault(entry[-1], []).append(part)
    return (docs[i] for i in _natural(store, found) if i in docs and any(_applies(part, docs[i]) for part in found[i]))


def _ordered(collection: Any, spec: Any, key: str, descending: bool) -> Iterator[Doc] | None:
    """The candidates in the order of `key`, when an index gives that order."""
    plan = _plan(collection._store, spec, key) if isinstance(spec, dict) and ids_named(spec) is None else None
    if plan is None or not plan[3]:
        return None
    return _through(collection._store, spec, plan, key, descending)


def _patch_reads(Collection: Any, Cursor: Any, helpers: Any) -> None:
    """Queries through `_id` and the indexes; a limited cursor builds only its page."""
    scan, dataset, results = Collection._iter_documents, Collection._get_dataset, Cursor._compute_results

    def iter_documents(collection: Any, query: Any) -> Any:
        found = _candidates(collection, query)
        return scan(collection, query) if found is None else found

    def get_dataset(collection: Any, spec: Any, sort: Any, fields: Any, as_class: Any) -> Any:
        """Straight from an index when it gives the order asked for (one key)."""
        if sort and len(sort) == 1:
            (key, direction), *_ = list(sort.items() if isinstance(sort, dict) else sort)
            ordered = _ordered(collection, spec, key, direction < 0) if not key.startswith("$") else None
            if ordered is not None:
                return (collection._copy_only_fields(doc, fields, as_class) for doc in ordered)
        return dataset(collection, spec, sort, fields, as_class)

    def compute_results(cursor: Any, with_limit_and_skip: bool = False) -> Any:
        """With a limit, build only the documents the page returns."""
        if not with_limit_and_skip or not cursor._limit:
            return results(cursor, with_limit_and_skip)
        if cursor.__dict__.get("_odg_page_of") is not cursor._factory:
            page = itertools.islice(cursor._factory(), cursor._skip, cursor._skip + abs(cursor._limit))
            if cursor.collection.codec_options.tz_aware:
                cursor._odg_page = [helpers.make_datetime_timezone_aware_in_document(doc) for doc in page]
            else:
                cursor._odg_page = list(page)
            cursor._odg_page_of = cursor._factory
        return cursor._odg_page

    Collection._iter_documents = iter_documents
    Collection._get_dataset = get_dataset
    Cursor._compute_results = compute_results


def _patch_writes(Collection: Any, CollectionStore: Any, helpers: Any) -> None:
    """Indexes kept wherever mongomock stores, changes or removes a document; the TTL
    sweep once a minute."""
    original_update = Collection._update
    sweep = CollectionStore._remove_expired_documents
    set_item, del_item = CollectionStore.__setitem__, CollectionStore.__delitem__
    create_index, drop = CollectionStore.create_index, CollectionStore.drop

    def update(collection: Any, spec: Any, document: Any, *args: Any, **kwargs: Any) -> Any:
        """mongomock changes matched documents in place: index them again afterwards."""
        catalogue = collection._store.__dict__.get("_odg_catalogue")
        if catalogue is None or not catalogue.indexes or not isinstance(spec, dict):
            return original_update(collection, spec, document, *args, **kwargs)
        matched = [
            (doc["_id"], catalogue.entries_of(doc))
            for doc in collection._iter_documents(helpers.patch_datetime_awareness_in_document(spec))
        ]
        try:
            return original_update(collection, spec, document, *args, **kwargs)
        finally:
            for doc_id, entries in matched:
                catalogue.reindexed(entries, collection._store._documents.get(doc_id))

    def remove_expired_documents(store: Any) -> None:
        now = time.monotonic()
        if now - getattr(store, "_last_sweep", -TTL_SWEEP_SECONDS) >= TTL_SWEEP_SECONDS:
            store._last_sweep = now
            sweep(store)

    def store_document(store: Any, key: Any, doc: Doc) -> None:
        old = store._documents.get(key)
        if old is not None:
            _catalogue(store).removed(old, replaced=True)
        set_item(store, key, doc)
        _catalogue(store).added(doc)

    def remove_document(store: Any, key: Any) -> None:
        old = store._documents.get(key)
        del_item(store, key)
        if old is not None:
            _catalogue(store).removed(old)

    def create_store_index(store: Any, name: str, index: Doc) -> None:
        create_index(store, name, index)
        if name == "_id_":
            return
        catalogue = _catalogue(store)
        built = catalogue.indexes[name] = _Index([field for field, _ in index["key"]])
        for doc in store._documents.values():
            built.add(doc, catalogue.positions[doc["_id"]])

    def drop_store(store: Any) -> None:
        drop(store)
        store.__dict__.pop("_odg_catalogue", None)

    Collection._update = update
    CollectionStore._remove_expired_documents = remove_expired_documents
    CollectionStore.__setitem__ = store_document
    CollectionStore.__delitem__ = remove_document
    CollectionStore.create_index = create_store_index
    CollectionStore.drop = drop_store


# mongomock walks every document it stores or returns with general-purpose helpers (an
# isinstance chain and copy.copy per value). These do the same to the plain types BSON
# decodes to, and hand anything else to mongomock's own.
_IMMUTABLE = frozenset({str, int, float, bool, type(None), bytes})


def _fast_helpers(helpers: Any, collection_module: Any) -> None:
    patch_original = helpers.patch_datetime_awareness_in_document
    aware_original = helpers.make_datetime_timezone_aware_in_document
    copy_original = collection_module._copy_field
    utc = helpers.utc
    intern = sys.intern

    def stored(value: Any) -> Any:
        """As mongomock stores it (naive UTC datetimes at millisecond precision), with field
        names and short strings kept once in memory: hits repeat their field names, report
        suite, day and most dimension values."""
        kind = type(value)
        if kind is str:
            return intern(value) if len(value) <= INTERNED_LENGTH else value
        if kind is dict:
            return {(intern(k) if type(k) is str else k): stored(v) for k, v in value.items()}
        if kind is list or kind is tuple:
            return [stored(v) for v in value]
        if kind in _IMMUTABLE:
            return value
        if kind is datetime:
            mongo_us = (value.microsecond // 1000) * 1000
            if value.tzinfo:
                return (value - value.utcoffset()).replace(tzinfo=None, microsecond=mongo_us)
            return value.replace(microsecond=mongo_us)
        return patch_original(value)

    def aware(value: Any) -> Any:
        kind = type(value)
        if kind is dict:  # most values are plain: kept without a call each
            return {k: v if type(v) in _IMMUTABLE else aware(v) for k, v in value.items()}
        if kind is list or kind is tuple:
            return [v if type(v) in _IMMUTABLE else aware(v) for v in value]
        if kind is datetime:
            return value.replace(tzinfo=utc)
        if kind in _IMMUTABLE:
            return value
        return aware_original(value)

    def copied(value: Any, container: Any) -> Any:
        kind = type(value)
        if kind in _IMMUTABLE or kind is datetime:  # immutable: the value itself is its copy
            return value
        if kind is dict and container is dict:
            return {k: copied(v, dict) for k, v in value.items()}
        if kind is list:
            return [copied(v, container) for v in value]
        return copy_original(value, container)

    def check_keys(data: Any) -> None:
        for key, value in data.items():
            if "\0" in key:
                raise InvalidDocument(f"Field names cannot contain the null character (found: {key})")
            if type(value) is dict or (type(value) not in _IMMUTABLE and isinstance(value, Mapping)):
                check_keys(value)

    original_fields = collection_module.Collection._copy_only_fields

    def copy_only_fields(collection: Any, doc: Doc, fields: Any, container: Any) -> Any:
        """A projection naming top-level fields only, all kept or all left out (as this
        project's are), in one pass; any other as mongomock does it. With tz_aware (this
        project's client) every result is copied again as its datetimes are made aware
        (Cursor._compute_results, the only consumer): the values are not copied twice."""
        aware_later = container is dict and collection.codec_options.tz_aware
        if fields is None and aware_later:
            return doc
        if type(fields) is not dict or not fields or container is not dict:
            return original_fields(collection, doc, fields, container)
        if list(fields) == ["_id"] and fields["_id"] in (1, True):
            return {"_id": doc["_id"]} if "_id" in doc else {}
        kinds = {bool(v) for k, v in fields.items() if k != "_id"}
        if len(kinds) != 1 or any("." in k or k.startswith("$") or type(v) not in (int, bool) for k, v in fields.items()):
            return original_fields(collection, doc, fields, container)
        keep_id = bool(fields.get("_id", 1))
        copy = (lambda v: v) if aware_later else (lambda v: copied(v, dict))
        if kinds == {True}:
            kept = {k: copy(v) for k, v in doc.items() if k in fields and k != "_id"}
        else:
            kept = {k: copy(v) for k, v in doc.items() if k not in fields and k != "_id"}
        if keep_id and "_id" in doc:
            kept["_id"] = doc["_id"]
        return kept

    collection_module.Collection._copy_only_fields = copy_only_fields
    # mongomock parses the same version strings on every insert.
    collection_module.version = types.SimpleNamespace(parse=functools.lru_cache(maxsize=64)(collection_module.version.parse))
    helpers.patch_datetime_awareness_in_document = stored
    collection_module._recursive_key_check_null_character = check_keys
    helpers.make_datetime_timezone_aware_in_document = aware
    collection_module._copy_field = copied


def _check_internals(collection_class: Any, cursor_class: Any, store_class: Any, helpers: Any, collection_module: Any) -> None:
    from importlib.metadata import version

    wanted = [
        (helpers, "patch_datetime_awareness_in_document"),
        (helpers, "make_datetime_timezone_aware_in_document"),
        (collection_module, "_copy_field"),
        (collection_module, "_recursive_key_check_null_character"),
        (getattr(collection_module, "version", None), "parse"),
        (collection_class, "_iter_documents"),
        (collection_class, "_get_dataset"),
        (collection_class, "_copy_only_fields"),
        (collection_class, "_update"),
        (cursor_class, "_compute_results"),
        (store_class, "_remove_expired_documents"),
        (store_class, "create_index"),
    ]
    missing = [name for owner, name in wanted if not callable(getattr(owner, name, None))]
    if not hasattr(helpers, "utc"):
        missing.append("helpers.utc")
    from mongomock import aggregate

    if not callable(getattr(aggregate, "process_pipeline", None)) or not isinstance(getattr(aggregate, "_PIPELINE_HANDLERS", None), dict):
        missing.append("aggregate.process_pipeline")
    if "_documents" not in vars(store_class("probe")):
        missing.append("_documents")
    if missing:
        raise EmbeddedStoreUnsupported(
            f"The embedded store needs mongomock {MONGOMOCK_VERSION}, whose internals it speeds up; "
            f"mongomock {version('mongomock')} lacks {', '.join(missing)}. "
            "Reinstall the project's pinned dependencies (pip install -e .) or set MONGODB_URI."
        )


def ids_named(query: Any) -> list[str | int] | None:
    """The `_id`s a query is limited to (one value or an `$in` list of them), or None."""
    if not isinstance(query, dict) or "_id" not in query:
        return None
    wanted = query["_id"]
    if isinstance(wanted, dict):
        if list(wanted) != ["$in"]:
            return None
        wanted = wanted["$in"]
    else:
        wanted = [wanted]
    if not all(type(i) in (str, int) for i in wanted):
        return None
    return list(dict.fromkeys(wanted))


# Stages that change their input documents in place (in mongomock): a pipeline holding one
# runs on copies of the stored documents; any other runs on the stored documents themselves.
_IN_PLACE_STAGES = frozenset({"$lookup", "$graphLookup"})


def _patch_aggregate(collection_class: Any, aggregate: Any) -> None:
    from mongomock import helpers
    from mongomock.command_cursor import CommandCursor

    def results(collection: Any, pipeline: list[dict[str, Any]]) -> list[Any]:
        """The pipeline's output, which may share parts with stored documents."""
        leading, rest = _leading_match(pipeline)
        docs = list(collection._iter_documents(helpers.patch_datetime_awareness_in_document(leading)))
        if _changes_input(rest):
            docs = copy.deepcopy(docs)
        return list(aggregate.process_pipeline(docs, collection.database, rest, None))

    def run(collection: Any, pipeline: list[dict[str, Any]], session: Any = None, **unused: Any) -> Any:
        if session:
            raise NotImplementedError("the embedded store has no sessions")
        aware = collection.codec_options.tz_aware
        # Copies: what a pipeline answers must not share parts with stored documents.
        return CommandCursor(
            [helpers.make_datetime_timezone_aware_in_document(d) if aware else copy.deepcopy(d) for d in results(collection, pipeline)]
        )

    def union_with(in_collection: list[Any], database: Any, options: Any) -> list[Any]:
        name, pipeline = (options, []) if isinstance(options, str) else (options["coll"], options.get("pipeline", []))
        return [*in_collection, *results(database.get_collection(name), pipeline)]

    sorting_group = aggregate._PIPELINE_HANDLERS["$group"]

    def group(in_collection: list[Any], database: Any, options: dict[str, Any]) -> list[Any]:
        key = options["_id"]
        everything: list[Any]
        if not key:  # one group of everything
            everything = sorting_group(in_collection, database, options)
            return everything
        groups: dict[Any, list[Any]] = {}
        for doc in in_collection:
            try:
                value = aggregate._parse_expression(key, doc, ignore_missing_keys=True)
            except KeyError:
                value = None
            if not isinstance(value, str | int | float | type(None)):
                everything = sorting_group(in_collection, database, options)
                return everything
            groups.setdefault((type(value) is bool, value), []).append(doc)  # True and 1 are distinct keys
        return [{**accumulated(options, docs), "_id": value} for (_, value), docs in groups.items()]

    def accumulated(options: dict[str, Any], docs: list[Any]) -> dict[str, Any]:
        """mongomock's accumulators, except that `$first` reads documents only until one
        gives a value (mongomock evaluates it on every document of the group)."""
        firsts = {name: spec["$first"] for name, spec in options.items() if name != "_id" and list(spec) == ["$first"]}
        out = aggregate._accumulate_group({k: v for k, v in options.items() if k not in firsts}, docs)
        for name, expression in firsts.items():
            out[name] = first_value(expression, docs)
        return {name: out[name] for name in options if name in out}

    def first_value(expression: Any, docs: list[Any]) -> Any:
        for doc in docs:
            try:
                return aggregate._parse_expression(expression, doc)
            except KeyError:
                continue
        return None

    collection_class.aggregate = run
    aggregate._PIPELINE_HANDLERS["$unionWith"] = union_with
    aggregate._PIPELINE_HANDLERS["$group"] = group


def _changes_input(stages: list[dict[str, Any]]) -> bool:
    inner = [s for stage in stages if "$facet" in stage for branch in stage["$facet"].values() for s in branch]
    return any(name in _IN_PLACE_STAGES for stage in [*stages, *inner] for name in stage)


def _leading_match(pipeline: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The filter of the `$match` stages a pipeline starts with (merged), and the stages after them."""
    filters: list[dict[str, Any]] = []
    for position, stage in enumerate(pipeline):
        if list(stage) != ["$match"]:
            return _all_of(filters), pipeline[position:]
        filters.append(stage["$match"])
    return _all_of(filters), []


def _all_of(filters: list[dict[str, Any]]) -> dict[str, Any]:
    """One filter for several; fields given once stay top-level, where the `_id` path sees them."""
    merged: dict[str, Any] = {}
    for f in filters:
        if merged.keys() & f.keys():
            return {"$and": filters}
        merged |= f
    return merged
