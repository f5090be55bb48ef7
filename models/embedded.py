"""The embedded store: mongomock-motor, made fit to serve a server that runs at once.

mongomock keeps documents in memory and answers like MongoDB, but slowly in ways that
grow with the data: it scans every document for every query, even by `_id`, and
re-checks every TTL-indexed document on every read and insert, so hit collection went
quadratic (326 hits/s at 100,000 hits). This module replaces those two paths with what
a server has, keeping mongomock's answers: an `_id` index, and a TTL monitor that runs
now and then (a server's runs every 60 s; reads check expiry themselves anyway).

It also holds the embedded-only write path for versioned replaces: mongomock cannot take
today's pymongo bulk operations (they pass a `sort` argument it does not know).

Aggregation (reports, batched pages) gets the same treatment: mongomock's `aggregate`
first copies the whole collection through a cursor whose every step copies the rest of
its results (quadratic: 98 s for 100,000 hits), then filters. Here the leading `$match`
picks documents as `find` does, and the pipeline runs on those alone. Its `$group` sorts
its input with a slow comparison to find equal keys; here equal keys are found by hash
(keys that cannot be hashed, such as documents, still go mongomock's way). `$unionWith`,
which mongomock lacks and reports use to put hits and offline rows in one pipeline, is
added.

The speed-ups patch private internals of the pinned mongomock and mongomock-motor
versions (pyproject.toml), so `client()` checks that they are there and fails with a
clear message at start-up if they are not.
"""

import copy
import time
from typing import Any

MONGOMOCK_VERSION = "4.3.0"
TTL_SWEEP_SECONDS = 1.0
_patched = False


class EmbeddedStoreUnsupported(RuntimeError):
    """The installed mongomock lacks the internals the embedded store patches."""


def client() -> Any:
    """A fresh in-memory client, with mongomock's slow paths replaced."""
    from mongomock_motor import AsyncMongoMockClient

    _patch_mongomock()
    return AsyncMongoMockClient(tz_aware=True)


def _patch_mongomock() -> None:
    global _patched
    if _patched:
        return
    from mongomock import aggregate
    from mongomock.collection import Collection
    from mongomock.filtering import filter_applies
    from mongomock.store import CollectionStore

    _check_internals(Collection, CollectionStore)
    _patch_aggregate(Collection, aggregate)
    scan = Collection._iter_documents
    sweep = CollectionStore._remove_expired_documents

    def iter_documents(collection: Any, query: Any) -> Any:
        ids = ids_named(query)
        if ids is None:
            return scan(collection, query)
        collection._store._remove_expired_documents()
        docs = collection._store._documents
        rest = {k: v for k, v in query.items() if k != "_id"}  # the `_id` part holds by construction
        return (docs[i] for i in ids if i in docs and filter_applies(rest, docs[i]))

    def remove_expired_documents(store: Any) -> None:
        now = time.monotonic()
        if now - getattr(store, "_last_sweep", -TTL_SWEEP_SECONDS) >= TTL_SWEEP_SECONDS:
            store._last_sweep = now
            sweep(store)

    Collection._iter_documents = iter_documents  # type: ignore[method-assign]  # the patch itself
    CollectionStore._remove_expired_documents = remove_expired_documents  # type: ignore[method-assign]  # the patch itself
    _patched = True


def _check_internals(collection_class: Any, store_class: Any) -> None:
    from importlib.metadata import version

    missing = [
        name
        for owner, name in [(collection_class, "_iter_documents"), (store_class, "_remove_expired_documents")]
        if not callable(getattr(owner, name, None))
    ]
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


async def replace_versioned(collection: Any, docs: list[dict[str, Any]]) -> set[Any]:
    """Write each doc whose stored copy is still the version it was read at (and of the
    same company); return the ids of the others. Versions are checked in one read and the
    documents swapped in one delete and one insert, instead of a deep copy and an update
    pass per replace. Nothing runs in between: mongomock's calls never yield."""
    wanted = {doc["_id"]: doc for doc in docs}
    stored = await collection.find({"_id": {"$in": list(wanted)}}, {"version": 1, "companyId": 1}).to_list(None)
    held = {doc["_id"]: doc for doc in stored}
    conflicts = {i for i, doc in wanted.items() if i in held and not _same_line(held[i], doc)}
    conflicts |= {i for i, doc in wanted.items() if i not in held and doc["version"] != 1}
    writes = [doc for doc in docs if doc["_id"] not in conflicts]
    if writes:
        await collection.delete_many({"_id": {"$in": [doc["_id"] for doc in writes]}})
        await collection.insert_many(writes)
    return conflicts


def _same_line(stored: dict[str, Any], doc: dict[str, Any]) -> bool:
    """Whether `doc` is the next version of `stored`, by the same company."""
    return stored["version"] == doc["version"] - 1 and stored.get("companyId") == doc.get("companyId")


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
