"""The store: the one module that talks to the MongoDB driver.

Everything above it passes plain documents and filters. Keeping driver calls here means
moving from Motor to PyMongo's AsyncMongoClient is a change to this module only.

Writes are single-document atomic or idempotent: no multi-document transactions, since
neither the embedded store nor every deployment supports them.
"""

import base64
import functools
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

import bson
from bson.codec_options import CodecOptions
from motor.motor_asyncio import AsyncIOMotorClient
from pymongo import ASCENDING, DESCENDING, IndexModel, ReplaceOne, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from models import embedded as embedded_store

COMPANIES = "companies"
API_KEYS = "api_keys"
REPORT_SUITES = "report_suites"
DATA_SOURCES = "data_sources"
VISITORS = "visitors"
HITS = "hits"
SNAPSHOTS = "snapshots"
JOBS = "jobs"
JOB_CHUNKS = "job_chunks"  # the stored pieces of an upload: file bytes, or one call of rows
JOB_NAMES = "job_names"  # the rows jobs still receiving, by data source and job name
PROBLEMS = "problems"  # what processing found wrong, by job and line
ROWS = "rows"  # offline rows as stored
UPLOAD_KEYS = "upload_keys"  # idempotency keys of uploads, by data source and key, for 24 hours
UPLOAD_CONTENTS = "upload_contents"  # the job holding each file content, by data source and SHA-256
LATE_LINKS = "late_links"  # per job: its rows linked late, when their transaction was collected
WAITING = "waiting_transactions"  # the transaction ids offline rows wait for, by report suite and id

# Declared next to the collections, created at start-up. Uniqueness lives in the `_id`s,
# which are built from the natural keys in models/keys.py (report suites 'companyId|rsid',
# visitors 'companyId|rsid|visitorId', hits '...|seq', snapshots 'companyId|rsid|transactionId'): the `_id` index is the unique
# index on those keys. A second unique index would make the embedded store scan the whole
# collection on every insert, and nx-27017 cannot build compound keys naming `_id`.
INDEXES: dict[str, list[IndexModel]] = {
    API_KEYS: [IndexModel([("hash", ASCENDING)], unique=True), IndexModel([("companyId", ASCENDING)])],
    REPORT_SUITES: [IndexModel([("companyId", ASCENDING), ("rsid", ASCENDING)])],
    DATA_SOURCES: [IndexModel([("rsid", ASCENDING)])],
    VISITORS: [IndexModel([("rsid", ASCENDING), ("visitorId", ASCENDING)])],
    HITS: [
        IndexModel([("rsid", ASCENDING), ("visitorId", ASCENDING), ("seq", DESCENDING)]),
        IndexModel([("rsid", ASCENDING), ("localDay", ASCENDING)]),
    ],
    SNAPSHOTS: [
        IndexModel([("rsid", ASCENDING), ("transactionId", ASCENDING)]),
        IndexModel([("rsid", ASCENDING), ("visitorId", ASCENDING), ("transactionId", ASCENDING)]),
        # The TTL monitor removes expired snapshots; reads check expiry themselves too.
        IndexModel([("expiresAt", ASCENDING)], expireAfterSeconds=0),
    ],
    JOBS: [
        IndexModel([("status", ASCENDING), ("dataSourceId", ASCENDING), ("name", ASCENDING)]),
        IndexModel([("dataSourceId", ASCENDING), ("receivedAt", DESCENDING)]),
        IndexModel([("rsid", ASCENDING), ("receivedAt", DESCENDING)]),
    ],
    JOB_CHUNKS: [IndexModel([("jobId", ASCENDING)])],
    PROBLEMS: [IndexModel([("jobId", ASCENDING)])],
    # Removed a day after they expire: reads check expiry themselves, so the monitor only
    # collects garbage, and servers whose clocks differ a little still agree on a key.
    UPLOAD_KEYS: [IndexModel([("expiresAt", ASCENDING)], expireAfterSeconds=24 * 3600)],
    UPLOAD_CONTENTS: [IndexModel([("jobId", ASCENDING)])],
    WAITING: [IndexModel([("expiresAt", ASCENDING)], expireAfterSeconds=24 * 3600)],  # garbage only, as for keys
    ROWS: [
        IndexModel([("jobId", ASCENDING)]),
        IndexModel([("rsid", ASCENDING), ("transactionId", ASCENDING)]),
        IndexModel([("rsid", ASCENDING), ("visitorId", ASCENDING), ("timestamp", ASCENDING)]),
        IndexModel([("rsid", ASCENDING), ("localDay", ASCENDING)]),
        IndexModel([("rsid", ASCENDING), ("dataSourceId", ASCENDING), ("localDay", ASCENDING)]),  # reports of some sources
    ],
}

Doc = dict[str, Any]  # a stored document, or a filter
P = ParamSpec("P")
R = TypeVar("R")

DUPLICATE_KEY = 11000
BULK_BATCH = 1000
PAGE_BRANCH = "_page"  # which page of a `find_pages` call a document belongs to
# Stages that read another collection: a company's pipeline may hold them only narrowed.
CROSSING_STAGES = frozenset({"$lookup", "$graphLookup", "$unionWith", "$out", "$merge"})


@dataclass(frozen=True)
class PageQuery:
    """One page of `find_pages`: documents of `collection` matching `query` (its keyset
    condition included, see `keyset`), in `sort` order, at most `limit`."""

    collection: str
    query: Doc
    sort: tuple[tuple[str, int], ...]
    limit: int

    @classmethod
    def keyset(cls, collection: str, query: Doc, key: str, descending: bool, after: Any, limit: int) -> "PageQuery":
        """The page `find_page` reads with the same arguments."""
        return cls(collection, keyset(query, key, descending, after), ((key, -1 if descending else 1),), limit)


def keyset(query: Doc, key: str, descending: bool, after: Any) -> Doc:
    """`query` narrowed to the documents after `after` on `key` (None: from the start)."""
    if after is None:
        return query
    return {"$and": [query, {key: {"$lt" if descending else "$gt": after}}]}


class DuplicateKey(Exception):
    """An insert met a unique index: the document (or its natural key) exists already."""


class StoreUnavailable(Exception):
    """The database could not be reached or refused the operation."""


def _answering(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Driver failures leave the store as StoreUnavailable, named but without their text
    (which may hold hosts or credentials)."""

    @functools.wraps(method)
    async def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(*args, **kwargs)
        except PyMongoError as error:
            raise StoreUnavailable(type(error).__name__) from None

    return call


@dataclass
class Store:
    db: Any  # a Motor database, or the embedded store's (models/embedded.py)
    embedded: bool
    round_trips: int = field(default=0)

    @classmethod
    def connect(cls, uri: str | None, database: str = "offline_graph") -> "Store":
        """A store on MongoDB at `uri`, or the embedded in-memory store when it is None."""
        if uri is None:
            return cls(embedded_store.database(database), embedded=True)
        client: AsyncIOMotorClient[Doc] = AsyncIOMotorClient(uri, tz_aware=True, serverSelectionTimeoutMS=5000)
        return cls(client[database], embedded=False)

    @classmethod
    async def reachable(cls, uri: str) -> bool:
        """Whether MongoDB at `uri` answers, asked on a client of its own."""
        probe = cls.connect(uri)
        try:
            return await probe.ping()
        finally:
            probe.close()

    def close(self) -> None:
        if self.embedded:
            self.db.close()
        else:
            self.db.client.close()

    def company(self, company_id: str) -> "CompanyStore":
        """This store as one company sees it: what every use-case on a company's data goes through."""
        return CompanyStore(self, company_id)

    async def ping(self) -> bool:
        self.round_trips += 1
        try:
            await self.db.command("ping")
        except PyMongoError:
            return False
        return True

    @_answering
    async def create_indexes(self) -> None:
        for name, indexes in INDEXES.items():
            self.round_trips += 1
            await self.db[name].create_indexes(indexes)

    @_answering
    async def insert(self, collection: str, doc: Doc) -> None:
        self.round_trips += 1
        try:
            await self.db[collection].insert_one(doc)
        except DuplicateKeyError as error:
            raise DuplicateKey(collection) from error

    @_answering
    async def insert_many(self, collection: str, docs: list[Doc]) -> set[int]:
        """Insert all it can; return the positions of those a unique index refused."""
        duplicates: set[int] = set()
        for start in range(0, len(docs), BULK_BATCH):
            batch = docs[start : start + BULK_BATCH]
            self.round_trips += 1
            try:
                await self.db[collection].insert_many(batch, ordered=False)
            except BulkWriteError as error:
                duplicates |= {start + e["index"] for e in _duplicate_errors(error)}
        return duplicates

    @_answering
    async def find_one(self, collection: str, query: Doc, projection: Doc | None = None) -> Doc | None:
        self.round_trips += 1
        doc: Doc | None = await self.db[collection].find_one(query, projection)
        return doc

    @_answering
    async def find_many(
        self, collection: str, query: Doc, sort: list[tuple[str, int]] | None = None, projection: Doc | None = None
    ) -> list[Doc]:
        self.round_trips += 1
        cursor = self.db[collection].find(query, projection)
        if sort:
            cursor = cursor.sort(sort)
        docs: list[Doc] = await cursor.to_list(None)
        return docs

    @_answering
    async def find_page(
        self, collection: str, query: Doc, key: str, descending: bool, after: Any, limit: int, projection: Doc | None = None
    ) -> tuple[list[Doc], bool]:
        """A keyset page ordered on the unique-within-query field `key`, and whether more follow."""
        self.round_trips += 1
        cursor = (
            self.db[collection]
            .find(keyset(query, key, descending, after), projection)
            .sort(key, DESCENDING if descending else ASCENDING)
        )
        docs: list[Doc] = await cursor.limit(limit + 1).to_list(None)
        return docs[:limit], len(docs) > limit

    @_answering
    async def count(self, collection: str, query: Doc) -> int:
        self.round_trips += 1
        count: int = await self.db[collection].count_documents(query)
        return count

    @_answering
    async def increment(self, collection: str, query: Doc, counts: dict[str, int]) -> None:
        self.round_trips += 1
        await self.db[collection].update_one(query, {"$inc": counts})

    @_answering
    async def set_fields(self, collection: str, changes: dict[Any, Doc], scope: Doc | None = None, upsert: bool = False) -> None:
        """Set fields of documents by `_id` ({id: {field: value}}), of those `scope` also
        matches; with `upsert`, a missing one is made of its `_id`, `scope` and the fields.
        Numbers, strings and lists only: some wire servers store a `$set` datetime as a string."""
        if not changes:
            return
        self.round_trips += 1
        if self.embedded:  # mongomock cannot take today's bulk operations
            await self.db.set_fields(collection, changes, scope or {}, upsert)
            return
        updates = [({"_id": i, **(scope or {})}, {"$set": f}) for i, f in changes.items()]
        try:
            await self.db[collection].bulk_write([UpdateOne(query, update, upsert=upsert) for query, update in updates], ordered=False)
        except BulkWriteError as error:
            _duplicate_errors(error)  # an upsert of an `_id` the scope does not match (another company's): left alone

    @_answering
    async def delete_many(self, collection: str, query: Doc) -> int:
        self.round_trips += 1
        result = await self.db[collection].delete_many(query)
        deleted: int = result.deleted_count
        return deleted

    @_answering
    async def aggregate(self, collection: str, pipeline: list[Doc]) -> list[Doc]:
        self.round_trips += 1
        docs: list[Doc] = await self.db[collection].aggregate(pipeline).to_list(None)
        return docs

    @_answering
    async def find_pages(self, pages: list[PageQuery]) -> list[tuple[list[Doc], bool]]:
        """Several pages in one round trip (the pages of every item of a list, for a
        DataLoader): one pipeline, each page after the first a `$unionWith` branch over its
        own index. Returns each page's documents and whether more follow."""
        if not pages:
            return []
        branches = [_page_branch(index, page) for index, page in enumerate(pages)]
        unions = [
            {"$unionWith": {"coll": page.collection, "pipeline": branch}} for page, branch in zip(pages[1:], branches[1:], strict=True)
        ]
        self.round_trips += 1
        docs: list[Doc] = await self.db[pages[0].collection].aggregate([*branches[0], *unions]).to_list(None)
        found: list[list[Doc]] = [[] for _ in pages]
        for doc in docs:
            found[doc.pop(PAGE_BRANCH)].append(doc)
        return [(docs[: page.limit], len(docs) > page.limit) for page, docs in zip(pages, found, strict=True)]

    async def count_by(self, collection: str, query: Doc, field: str) -> dict[Any, int]:
        """How many documents matching `query` hold each value of `field`. A server groups
        them (over the query's index); the embedded store, whose aggregation scans and
        copies every document, counts the ids its indexes find."""
        if not self.embedded:
            grouped = await self.aggregate(collection, [{"$match": query}, {"$group": {"_id": f"${field}", "n": {"$sum": 1}}}])
            return {doc["_id"]: doc["n"] for doc in grouped}
        self.round_trips += 1
        docs = await self.db[collection].find(query, {field: 1}).to_list(None)
        return dict(Counter(doc.get(field) for doc in docs))

    async def replace_versioned(self, collection: str, doc: Doc) -> bool:
        """Write `doc` if the stored copy is still the version it was read at."""
        return not await self.replace_many_versioned(collection, [doc])

    @_answering
    async def replace_many_versioned(self, collection: str, docs: list[Doc]) -> set[Any]:
        """Optimistic writes. Each doc carries `version`, one more than the copy it was read
        from (1 for a new document). Returns the ids whose stored copy had moved on; the
        others are written.

        The upsert is what makes a lost race visible per document: when the version no
        longer matches, the server tries to insert the `_id` and the unique `_id` index
        refuses it."""
        conflicts: set[Any] = set()
        for start in range(0, len(docs), BULK_BATCH):
            batch = docs[start : start + BULK_BATCH]
            self.round_trips += 1
            if self.embedded:
                conflicts |= await self.db.replace_versioned(collection, batch)
                continue
            try:
                await self.db[collection].bulk_write([_versioned_replace(doc) for doc in batch], ordered=False)
            except BulkWriteError as error:
                conflicts |= {batch[e["index"]]["_id"] for e in _duplicate_errors(error)}
        return conflicts


@dataclass(frozen=True)
class CompanyStore:
    """The store as one company sees it. Every filter is narrowed to its companyId and
    every document written must carry it, so a use-case holding this view cannot read,
    count or change another company's documents, whatever ids it is given."""

    store: Store
    company_id: str

    def own(self, query: Doc) -> Doc:
        return {**query, "companyId": self.company_id}

    def _check(self, docs: list[Doc]) -> list[Doc]:
        if any(doc.get("companyId") != self.company_id for doc in docs):
            raise ValueError("a document of another company was about to be written")
        return docs

    async def find_one(self, collection: str, query: Doc, projection: Doc | None = None) -> Doc | None:
        return await self.store.find_one(collection, self.own(query), projection)

    async def find_many(
        self, collection: str, query: Doc, sort: list[tuple[str, int]] | None = None, projection: Doc | None = None
    ) -> list[Doc]:
        return await self.store.find_many(collection, self.own(query), sort, projection)

    async def find_page(
        self, collection: str, query: Doc, key: str, descending: bool, after: Any, limit: int, projection: Doc | None = None
    ) -> tuple[list[Doc], bool]:
        return await self.store.find_page(collection, self.own(query), key, descending, after, limit, projection)

    async def count(self, collection: str, query: Doc) -> int:
        return await self.store.count(collection, self.own(query))

    async def increment(self, collection: str, query: Doc, counts: dict[str, int]) -> None:
        await self.store.increment(collection, self.own(query), counts)

    async def set_fields(self, collection: str, changes: dict[Any, Doc], upsert: bool = False) -> None:
        await self.store.set_fields(collection, changes, scope={"companyId": self.company_id}, upsert=upsert)

    async def delete_many(self, collection: str, query: Doc) -> int:
        return await self.store.delete_many(collection, self.own(query))

    async def aggregate(self, collection: str, pipeline: list[Doc]) -> list[Doc]:
        """A pipeline over this company's documents only: its first stage is the company
        filter, and so is the first stage of every collection it unions with."""
        return await self.store.aggregate(collection, self.narrowed(pipeline))

    def narrowed(self, pipeline: list[Doc]) -> list[Doc]:
        """`pipeline` as this view runs it."""
        narrowed = [{"$match": {"companyId": self.company_id}}]
        for stage in pipeline:
            if "$unionWith" in stage:
                union = stage["$unionWith"]
                name, inner = (union, []) if isinstance(union, str) else (union["coll"], union.get("pipeline", []))
                stage = {"$unionWith": {"coll": name, "pipeline": self.narrowed(inner)}}
            elif "$facet" in stage:
                _no_crossing([s for inner in stage["$facet"].values() for s in inner])
            else:
                _no_crossing([stage])
            narrowed.append(stage)
        return narrowed

    async def find_pages(self, pages: list[PageQuery]) -> list[tuple[list[Doc], bool]]:
        return await self.store.find_pages([PageQuery(p.collection, self.own(p.query), p.sort, p.limit) for p in pages])

    async def count_by(self, collection: str, query: Doc, field: str) -> dict[Any, int]:
        return await self.store.count_by(collection, self.own(query), field)

    async def insert(self, collection: str, doc: Doc) -> None:
        await self.store.insert(collection, self._check([doc])[0])

    async def insert_many(self, collection: str, docs: list[Doc]) -> set[int]:
        return await self.store.insert_many(collection, self._check(docs))

    async def replace_versioned(self, collection: str, doc: Doc) -> bool:
        return await self.store.replace_versioned(collection, self._check([doc])[0])

    async def replace_many_versioned(self, collection: str, docs: list[Doc]) -> set[Any]:
        return await self.store.replace_many_versioned(collection, self._check(docs))


def pack(docs: list[Doc]) -> str:
    """Documents carried inside another as one value, written and read back in one piece
    instead of field by field (they are only ever read whole): their BSON, as base64 text
    since not every server takes binary values (nx-27017 does not)."""
    return base64.b64encode(b"".join(bson.encode(doc) for doc in docs)).decode("ascii")


def unpack(packed: str) -> list[Doc]:
    return list(bson.decode_all(base64.b64decode(packed), _CARRIED))


_CARRIED: CodecOptions[Doc] = CodecOptions(tz_aware=True)


def _no_crossing(stages: list[Doc]) -> None:
    crossing = [name for stage in stages for name in stage if name in CROSSING_STAGES]
    if crossing:
        raise ValueError(f"{crossing[0]} would read another collection beyond the company's documents")


def _page_branch(index: int, page: PageQuery) -> list[Doc]:
    return [{"$match": page.query}, {"$sort": dict(page.sort)}, {"$limit": page.limit + 1}, {"$addFields": {PAGE_BRANCH: index}}]


def _version_filter(doc: Doc) -> Doc:
    # The company too: a document of another company under the same `_id` is never replaced.
    return {"_id": doc["_id"], "version": doc["version"] - 1, "companyId": doc.get("companyId")}


def _versioned_replace(doc: Doc) -> ReplaceOne[Doc]:
    return ReplaceOne(_version_filter(doc), doc, upsert=True)


def _duplicate_errors(error: BulkWriteError) -> list[Doc]:
    errors: list[Doc] = error.details.get("writeErrors", [])
    if any(e["code"] != DUPLICATE_KEY for e in errors):
        raise StoreUnavailable("a bulk write failed") from error
    return errors
