"""models/embedded.py: the embedded store's speed-ups: they keep mongomock's answers, and refuse to start on a
mongomock whose internals they cannot patch."""

import pytest
from mongomock.collection import Collection

from graph.cli import main
from models import embedded
from models.store import Store


@pytest.fixture
def unpatched(monkeypatch):
    """As on a fresh process whose mongomock lacks the internals the store patches."""
    monkeypatch.setattr(embedded, "_patched", False)
    monkeypatch.delattr(Collection, "_iter_documents")


def test_a_mongomock_without_the_patched_internals_fails_at_start_up_with_a_clear_message(unpatched):
    with pytest.raises(embedded.EmbeddedStoreUnsupported) as raised:
        Store.connect(None)

    message = str(raised.value)
    assert f"mongomock {embedded.MONGOMOCK_VERSION}" in message and "_iter_documents" in message
    assert "pip install -e ." in message


def test_the_cli_says_so_in_one_line_instead_of_a_traceback(unpatched, monkeypatch, capsys):
    monkeypatch.delenv("MONGODB_URI", raising=False)
    monkeypatch.setattr("uvicorn.run", lambda app, **options: None)

    assert main(["serve"]) == 2  # the company and key commands refuse the embedded store before opening it

    err = capsys.readouterr().err
    assert err.startswith("error: The embedded store needs mongomock") and "Traceback" not in err


async def test_id_lookups_and_other_queries_give_the_same_documents(store):
    await store.insert_many("things", [{"_id": f"t{i}", "n": i % 3} for i in range(10)])

    by_id = await store.find_many("things", {"_id": {"$in": ["t1", "t4", "missing", "t1"]}, "n": 1})
    scanned = await store.find_many("things", {"n": 1, "_id": {"$ne": "t7"}})

    assert sorted(d["_id"] for d in by_id) == ["t1", "t4"]
    assert sorted(d["_id"] for d in scanned) == ["t1", "t4"]


# --- indexes: the same answers as mongomock's own scan -----------------------------------

INDEXED = "indexed"


def things() -> list[dict]:
    """Documents with ties, gaps and every comparison the store's queries make."""
    return [
        {
            "_id": f"d{i}",
            "rsid": f"rs{i % 2}",
            "visitorId": f"v{i % 5}",
            "seq": (i * 7) % 11,
            "day": f"2026-01-{1 + i % 3:02d}",
            "n": i,
            "version": 0,
        }
        for i in range(60)
    ]


@pytest.fixture
async def pair():
    """(indexed, plain): the same documents in the same order, with and without the indexes."""
    from pymongo import ASCENDING, DESCENDING, IndexModel

    indexed, plain = Store.connect(None), Store.connect(None)
    await indexed.db[INDEXED].create_indexes(
        [
            IndexModel([("rsid", ASCENDING), ("visitorId", ASCENDING), ("seq", DESCENDING)]),
            IndexModel([("rsid", ASCENDING), ("day", ASCENDING)]),
        ]
    )
    for store in (indexed, plain):
        await store.insert_many(INDEXED, things())
    yield indexed, plain
    indexed.close()
    plain.close()


QUERIES = [
    ({"rsid": "rs1"}, None),
    ({"rsid": "rs1", "visitorId": "v3"}, None),
    ({"rsid": "rs1", "visitorId": "v3"}, [("seq", -1)]),
    ({"rsid": "rs0", "visitorId": "v2", "seq": {"$lte": 6}}, [("seq", -1)]),
    ({"$and": [{"rsid": "rs0", "visitorId": "v2"}, {"seq": {"$lt": 9}}]}, [("seq", 1)]),
    ({"rsid": "rs0", "seq": {"$gt": 3, "$lte": 8}}, [("visitorId", 1)]),  # ties on visitorId: natural order
    ({"rsid": "rs1"}, [("visitorId", -1)]),
    ({"rsid": "rs1", "day": {"$gte": "2026-01-02"}}, [("day", 1)]),
    ({"rsid": "rs1", "seq": {"$lt": "a string"}}, None),  # another type: nothing matches
    ({"rsid": "rs0", "n": {"$gt": 20}}, [("n", -1)]),  # sorted on a field no index orders
    ({"$or": [{"rsid": "rs0", "visitorId": "v1", "seq": {"$gte": 2}}, {"rsid": "rs1", "visitorId": "v4"}]}, None),
    ({"$or": [{"rsid": "rs0", "visitorId": "v1"}, {"n": 3}]}, None),  # a branch no index serves: scanned
    ({"$or": [{"rsid": "rs0", "visitorId": "v2", "n": 2}, {"rsid": "rs0", "visitorId": "v2", "n": 7}]}, None),  # overlapping ranges
]


@pytest.mark.parametrize(("query", "sort"), QUERIES)
async def test_an_indexed_query_gives_mongomocks_documents_in_mongomocks_order(pair, query, sort):
    indexed, plain = pair

    assert await indexed.find_many(INDEXED, query, sort) == await plain.find_many(INDEXED, query, sort)
    assert await indexed.count(INDEXED, query) == await plain.count(INDEXED, query)


@pytest.mark.parametrize(("key", "descending"), [("seq", True), ("seq", False), ("visitorId", False), ("day", True)])
async def test_keyset_pages_are_the_same_with_and_without_indexes(pair, key, descending):
    indexed, plain = pair
    query = {"rsid": "rs0", "visitorId": "v2"} if key == "seq" else {"rsid": "rs0"}

    for after in (None, 3, "v1", "2026-01-02"):
        if after is not None and type(after) is not type(things()[0][key]):
            continue
        assert await indexed.find_page(INDEXED, query, key, descending, after, 4) == await plain.find_page(
            INDEXED, query, key, descending, after, 4
        )


async def test_indexes_follow_updates_deletes_and_replaces(pair):
    indexed, plain = pair
    for store in (indexed, plain):
        await store.increment(INDEXED, {"_id": "d4"}, {"seq": 100})
        await store.replace_many_versioned(INDEXED, [{"_id": "d6", "rsid": "rs1", "visitorId": "v0", "seq": 5, "version": 1}])
        await store.db[INDEXED].insert_one({"_id": "late", "rsid": "rs0", "visitorId": "v4", "seq": 1})

    for query, sort in [*QUERIES, ({"rsid": "rs0", "visitorId": "v4"}, [("seq", -1)])]:
        assert await indexed.find_many(INDEXED, query, sort) == await plain.find_many(INDEXED, query, sort)


MIXED = [
    {"_id": "odd", "rsid": "rs0", "visitorId": "v1", "seq": "not a number"},
    {"_id": "none", "rsid": "rs0", "visitorId": None, "seq": 4},  # an offline row of no visitor
    {"_id": "gone", "rsid": "rs1", "seq": 2},  # no visitorId at all
]
MIXED_QUERIES = [
    *QUERIES,
    ({"rsid": "rs0", "visitorId": None}, None),
    ({"rsid": "rs0"}, [("visitorId", 1)]),  # none orders before strings, as MongoDB orders types
    ({"rsid": "rs0", "visitorId": {"$in": ["v1", "v3", "nobody"]}}, None),
    ({"rsid": "rs0", "visitorId": {"$gte": "v2"}}, None),
    ({"rsid": "rs0", "seq": {"$gte": "a"}}, None),  # strings only: the string seq
]


async def test_a_field_of_several_types_keeps_its_index_and_answers_stay_right(pair):
    indexed, plain = pair
    for store in (indexed, plain):
        await store.insert_many(INDEXED, MIXED)

    for query, sort in MIXED_QUERIES:
        assert await indexed.find_many(INDEXED, query, sort) == await plain.find_many(INDEXED, query, sort), query


async def test_an_in_list_reads_only_the_documents_it_names(store, monkeypatch):
    """An $in of strings on an indexed field is read as one index range a value, so a batch
    of transaction ids costs what it names, not the collection (rows without one included)."""
    from pymongo import ASCENDING, IndexModel

    await store.db[INDEXED].create_indexes([IndexModel([("rsid", ASCENDING), ("transactionId", ASCENDING)])])
    rows = [{"_id": i, "rsid": "r", "transactionId": f"t{i}" if i % 3 else None} for i in range(3000)]
    await store.insert_many(INDEXED, rows)
    touched = []
    from mongomock import filtering

    def counting(query, doc, _original=filtering.filter_applies):
        touched.append(doc["_id"])
        return _original(query, doc)

    monkeypatch.setattr(filtering, "filter_applies", counting)

    found = await store.count_by(INDEXED, {"rsid": "r", "transactionId": {"$in": ["t1", "t2", "t4", "t3"]}}, "transactionId")

    assert found == {"t1": 1, "t2": 1, "t4": 1}  # t3 is a row of no id
    assert len(touched) <= 4


async def test_a_page_reads_only_the_documents_it_returns(store, monkeypatch):
    """find().sort().limit() on an index touches about `limit` documents, not the collection."""
    from pymongo import ASCENDING, IndexModel

    await store.db[INDEXED].create_indexes([IndexModel([("rsid", ASCENDING), ("seq", ASCENDING)])])
    await store.insert_many(INDEXED, [{"_id": i, "rsid": "r", "seq": i} for i in range(5000)])
    touched = []
    from mongomock import filtering

    def counting(query, doc, _original=filtering.filter_applies):
        touched.append(doc["_id"])
        return _original(query, doc)

    monkeypatch.setattr(filtering, "filter_applies", counting)

    docs, more = await store.find_page(INDEXED, {"rsid": "r"}, "seq", False, 2000, 10)

    assert [d["seq"] for d in docs] == list(range(2001, 2011)) and more
    assert len(touched) <= 11


@pytest.mark.parametrize(
    ("projection", "expected"),
    [
        ({"_id": 1}, {"_id": "p"}),
        ({"a": 1}, {"_id": "p", "a": 1}),
        ({"a": 1, "_id": 0}, {"a": 1}),
        ({"a": 0}, {"_id": "p", "b": {"c": 2}, "d": [1, {"e": 3}]}),
        ({"a": 0, "b": 0, "_id": 0}, {"d": [1, {"e": 3}]}),
        ({"b.c": 1}, {"_id": "p", "b": {"c": 2}}),  # a dotted path: mongomock's own projection
    ],
)
async def test_projections_keep_or_leave_out_the_fields_named(store, projection, expected):
    await store.insert_many("things", [{"_id": "p", "a": 1, "b": {"c": 2}, "d": [1, {"e": 3}]}])

    (doc,) = await store.find_many("things", {"_id": "p"}, projection=projection)

    assert doc == expected
    doc.get("b", {})["c"] = 99  # a copy: the stored document stays as it was
    assert (await store.find_one("things", {"_id": "p"}))["b"] == {"c": 2}


async def test_a_pipeline_gives_copies_and_changes_no_stored_document(store):
    await store.insert_many("things", [{"_id": "a", "tags": ["x", "y"], "in": {"n": 1}}, {"_id": "b", "tags": [], "in": {"n": 2}}])

    # $lookup and $unwind change their input in place in mongomock; $project shares parts of it.
    looked_up = await store.aggregate("things", [{"$lookup": {"from": "things", "localField": "_id", "foreignField": "_id", "as": "self"}}])
    unwound = await store.aggregate("things", [{"$match": {"_id": "a"}}, {"$unwind": "$tags"}])
    projected = await store.aggregate("things", [{"$match": {"_id": "a"}}, {"$project": {"in": "$in"}}])
    projected[0]["in"]["n"] = 99

    assert [d["self"][0]["_id"] for d in looked_up] == ["a", "b"] and [d["tags"] for d in unwound] == ["x", "y"]
    assert await store.find_many("things", {}) == [
        {"_id": "a", "tags": ["x", "y"], "in": {"n": 1}},
        {"_id": "b", "tags": [], "in": {"n": 2}},
    ]


async def test_leading_matches_are_all_applied_and_a_group_tells_keys_apart_as_a_server_does(store):
    docs = [{"_id": i, "k": k, "n": 1} for i, k in enumerate([1, True, 1.0, "1", None, {"a": 1}, {"a": 1}])]
    await store.insert_many("things", [*docs, {"_id": 99, "k": 1, "n": 5, "other": True}])

    grouped = await store.aggregate(
        "things", [{"$match": {"n": 1}}, {"$match": {"n": {"$lt": 5}}}, {"$group": {"_id": "$k", "c": {"$sum": 1}}}]
    )
    missing = await store.aggregate("things", [{"$match": {"_id": {"$in": [4, 99]}}}, {"$group": {"_id": "$other", "c": {"$sum": "$n"}}}])

    # 1 and 1.0 are one key, True and "1" others; documents as keys (mongomock's own way) still group.
    assert sorted((repr(d["_id"]), d["c"]) for d in grouped) == [("'1'", 1), ("1", 2), ("None", 1), ("True", 1), ("{'a': 1}", 2)]
    assert sorted((repr(d["_id"]), d["c"]) for d in missing) == [("None", 1), ("True", 5)]


async def test_union_with_adds_the_other_collections_documents(store):
    await store.insert_many("things", [{"_id": "t", "n": 1}])
    await store.insert_many("others", [{"_id": "o", "n": 2}, {"_id": "p", "n": 3}])

    union = await store.aggregate("things", [{"$unionWith": {"coll": "others", "pipeline": [{"$match": {"n": {"$gt": 2}}}]}}])
    whole = await store.aggregate("things", [{"$unionWith": "others"}, {"$group": {"_id": None, "n": {"$sum": "$n"}}}])

    assert [d["_id"] for d in union] == ["t", "p"] and whole == [{"_id": None, "n": 6}]


async def test_a_large_result_is_built_once_not_again_for_every_document(store, monkeypatch):
    """mongomock's cursor slices its results again at each document it hands out: reading a
    result of N documents that way costs N^2."""
    from mongomock.collection import Cursor

    await store.insert_many("things", [{"_id": i} for i in range(500)])
    built = []
    original = Cursor._compute_results

    def counted(cursor, *args, **kwargs):
        built.append(1)
        return original(cursor, *args, **kwargs)

    monkeypatch.setattr(Cursor, "_compute_results", counted)

    assert len(await store.find_many("things", {})) == 500
    assert len(built) <= 2
