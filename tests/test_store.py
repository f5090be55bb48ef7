"""models/store.py, the store seam, on both the embedded store and a real MongoDB wire server: unique
indexes, bulk inserts with duplicates, optimistic versioned writes, keyset pages."""

import pytest

from models import store as collections
from models.keys import snapshot_key
from models.store import BULK_BATCH, DuplicateKey, PageQuery, keyset

pytestmark = pytest.mark.wire

THINGS = "things"
OTHERS = "others"


async def test_a_second_insert_of_an_id_is_a_duplicate_key(any_store):
    await any_store.insert(THINGS, {"_id": "a", "n": 1})

    with pytest.raises(DuplicateKey):
        await any_store.insert(THINGS, {"_id": "a", "n": 2})

    assert await any_store.find_many(THINGS, {}) == [{"_id": "a", "n": 1}]


async def test_a_declared_unique_index_refuses_a_duplicate(any_store):
    await any_store.insert(collections.API_KEYS, {"_id": "k1", "companyId": "c", "role": "READER", "hash": "h"})

    with pytest.raises(DuplicateKey):
        await any_store.insert(collections.API_KEYS, {"_id": "k2", "companyId": "c", "role": "ADMIN", "hash": "h"})

    assert await any_store.count(collections.API_KEYS, {}) == 1


async def test_snapshots_are_unique_per_company_report_suite_and_transaction_id(any_store):
    def snapshot(company_id: str, rsid: str, transaction_id: str) -> dict:
        return {
            "_id": snapshot_key(company_id, rsid, transaction_id),
            "companyId": company_id,
            "rsid": rsid,
            "transactionId": transaction_id,
        }

    await any_store.insert(collections.SNAPSHOTS, snapshot("c1", "a", "t-1"))
    await any_store.insert(collections.SNAPSHOTS, snapshot("c1", "b", "t-1"))
    await any_store.insert(collections.SNAPSHOTS, snapshot("c2", "a", "t-1"))  # the same rsid in another company

    with pytest.raises(DuplicateKey):
        await any_store.insert(collections.SNAPSHOTS, snapshot("c1", "a", "t-1"))


async def test_creating_indexes_twice_is_harmless(any_store):
    await any_store.create_indexes()

    assert await any_store.ping() is True


async def test_insert_many_writes_the_rest_and_returns_the_positions_of_duplicates(any_store):
    await any_store.insert(THINGS, {"_id": "old"})
    docs = [{"_id": "a"}, {"_id": "old"}, {"_id": "b"}, {"_id": "a"}, {"_id": "c"}]

    duplicates = await any_store.insert_many(THINGS, docs)

    assert duplicates == {1, 3}
    assert sorted(d["_id"] for d in await any_store.find_many(THINGS, {})) == ["a", "b", "c", "old"]


async def test_insert_many_counts_positions_across_batches(any_store):
    docs = [{"_id": f"d{i:05}"} for i in range(BULK_BATCH + 5)]
    docs[BULK_BATCH + 2] = {"_id": "d00003"}  # the second batch repeats an id from the first

    duplicates = await any_store.insert_many(THINGS, docs)

    assert duplicates == {BULK_BATCH + 2}
    assert await any_store.count(THINGS, {}) == BULK_BATCH + 4


async def test_insert_many_with_nothing_duplicated_returns_no_positions(any_store):
    assert await any_store.insert_many(THINGS, [{"_id": "x"}, {"_id": "y"}]) == set()
    assert await any_store.insert_many(THINGS, []) == set()
    assert await any_store.count(THINGS, {}) == 2


async def test_replace_many_versioned_writes_current_copies_and_returns_the_stale_ids(any_store):
    await any_store.insert_many(THINGS, [{"_id": "fresh", "v": "old", "version": 1}, {"_id": "stale", "v": "old", "version": 3}])
    docs = [
        {"_id": "fresh", "v": "new", "version": 2},  # read at version 1: still current
        {"_id": "stale", "v": "new", "version": 3},  # read at version 2: moved on since
        {"_id": "brand-new", "v": "new", "version": 1},
    ]

    conflicts = await any_store.replace_many_versioned(THINGS, docs)

    assert conflicts == {"stale"}
    stored = {d["_id"]: d for d in await any_store.find_many(THINGS, {})}
    assert stored == {
        "fresh": {"_id": "fresh", "v": "new", "version": 2},
        "stale": {"_id": "stale", "v": "old", "version": 3},
        "brand-new": {"_id": "brand-new", "v": "new", "version": 1},
    }


async def test_a_new_document_written_twice_at_version_one_conflicts_the_second_time(any_store):
    assert await any_store.replace_versioned(THINGS, {"_id": "a", "v": 1, "version": 1}) is True

    assert await any_store.replace_versioned(THINGS, {"_id": "a", "v": 2, "version": 1}) is False

    assert await any_store.find_one(THINGS, {"_id": "a"}) == {"_id": "a", "v": 1, "version": 1}


async def test_two_writers_from_one_read_only_the_first_wins(any_store):
    await any_store.insert(THINGS, {"_id": "a", "v": "read", "version": 1})

    first = await any_store.replace_versioned(THINGS, {"_id": "a", "v": "first", "version": 2})
    second = await any_store.replace_versioned(THINGS, {"_id": "a", "v": "second", "version": 2})

    assert (first, second) == (True, False)
    assert (await any_store.find_one(THINGS, {"_id": "a"}))["v"] == "first"


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
async def test_find_page_walks_the_key_in_order_and_says_when_more_follow(any_store, descending):
    await any_store.insert_many(THINGS, [{"_id": f"k{i}", "group": "g" if i != 3 else "other"} for i in [5, 1, 4, 3, 2, 6]])
    expected = ["k1", "k2", "k4", "k5", "k6"][:: -1 if descending else 1]

    seen, after, pages = [], None, []
    while True:
        docs, more = await any_store.find_page(THINGS, {"group": "g"}, "_id", descending, after, 2)
        pages.append(([d["_id"] for d in docs], more))
        seen += [d["_id"] for d in docs]
        if not more:
            break
        after = docs[-1]["_id"]

    assert seen == expected
    assert pages == [(expected[0:2], True), (expected[2:4], True), (expected[4:], False)]


async def test_a_page_as_large_as_what_is_left_has_no_more(any_store):
    await any_store.insert_many(THINGS, [{"_id": "a"}, {"_id": "b"}])

    assert await any_store.find_page(THINGS, {}, "_id", False, None, 2) == ([{"_id": "a"}, {"_id": "b"}], False)
    assert await any_store.find_page(THINGS, {}, "_id", False, "b", 2) == ([], False)
    assert await any_store.find_page(THINGS, {}, "_id", False, None, 0) == ([], True)


# --- the company view (Store.company) ---------------------------------------------------

OURS, THEIRS = "acme", "globex"
THEIR_DOC = {"_id": "theirs", "companyId": THEIRS, "n": 3, "version": 1}


@pytest.fixture
async def ours(any_store):
    """Acme's view of a collection holding two of its documents and one of Globex's."""
    await any_store.insert_many(
        THINGS,
        [{"_id": "ours-1", "companyId": OURS, "n": 1, "version": 1}, {"_id": "ours-2", "companyId": OURS, "n": 2, "version": 1}, THEIR_DOC],
    )
    return any_store.company(OURS)


async def test_a_company_view_finds_only_its_own_documents_even_by_their_exact_id(ours):
    assert (await ours.find_one(THINGS, {"_id": "ours-1"}))["n"] == 1
    assert await ours.find_one(THINGS, {"_id": "theirs"}) is None

    found = await ours.find_many(THINGS, {"_id": {"$in": ["ours-1", "theirs", "ours-2"]}})

    assert sorted(d["_id"] for d in found) == ["ours-1", "ours-2"]
    assert await ours.find_many(THINGS, {"_id": {"$in": ["theirs"]}}) == []
    # A filter naming the other company is narrowed to the view's own all the same.
    assert {d["companyId"] for d in await ours.find_many(THINGS, {"companyId": THEIRS})} == {OURS}


async def test_a_company_view_pages_and_counts_only_its_own_documents(any_store, ours):
    assert await ours.find_page(THINGS, {}, "_id", False, None, 10) == (
        [{"_id": "ours-1", "companyId": OURS, "n": 1, "version": 1}, {"_id": "ours-2", "companyId": OURS, "n": 2, "version": 1}],
        False,
    )
    assert await ours.find_page(THINGS, {}, "_id", False, "ours-2", 10) == ([], False)  # "theirs" sorts after
    assert await ours.find_page(THINGS, {"_id": "theirs"}, "_id", True, None, 10) == ([], False)
    assert await ours.count(THINGS, {}) == 2
    assert await ours.count(THINGS, {"_id": "theirs"}) == 0
    assert await any_store.count(THINGS, {}) == 3


async def test_a_company_view_cannot_change_another_companys_document_given_its_id(any_store, ours):
    # Written as Acme's under Globex's _id, at the next version or as new: a conflict, never a write.
    assert await ours.replace_versioned(THINGS, {"_id": "theirs", "companyId": OURS, "n": 99, "version": 2}) is False
    conflicts = await ours.replace_many_versioned(
        THINGS, [{"_id": "theirs", "companyId": OURS, "n": 99, "version": 1}, {"_id": "ours-1", "companyId": OURS, "n": 10, "version": 2}]
    )
    with pytest.raises(DuplicateKey):
        await ours.insert(THINGS, {"_id": "theirs", "companyId": OURS, "n": 99})
    await ours.increment(THINGS, {"_id": "theirs"}, {"n": 1})
    await ours.increment(THINGS, {"_id": "ours-2"}, {"n": 1})

    assert conflicts == {"theirs"}
    assert await any_store.find_one(THINGS, {"_id": "theirs"}) == THEIR_DOC
    assert (await any_store.find_one(THINGS, {"_id": "ours-1"}))["n"] == 10
    assert (await any_store.find_one(THINGS, {"_id": "ours-2"}))["n"] == 3


@pytest.mark.parametrize("doc", [{"_id": "x", "companyId": THEIRS, "version": 1}, {"_id": "x", "version": 1}], ids=["theirs", "no-company"])
async def test_writing_a_document_not_of_the_views_company_raises_and_writes_nothing(any_store, doc):
    ours = any_store.company(OURS)
    own = {"_id": "y", "companyId": OURS, "version": 1}
    writes = [
        lambda: ours.insert(THINGS, doc),
        lambda: ours.insert_many(THINGS, [own, doc]),
        lambda: ours.replace_versioned(THINGS, doc),
        lambda: ours.replace_many_versioned(THINGS, [own, doc]),
    ]

    for write in writes:
        with pytest.raises(ValueError, match="another company"):
            await write()

    assert await any_store.find_many(THINGS, {}) == []


async def test_set_fields_changes_only_the_documents_its_filter_matches_and_upserts_when_asked(any_store):
    await any_store.insert_many(THINGS, [{"_id": "a", "companyId": "c1", "n": 1}, {"_id": "b", "companyId": "c2", "n": 1}])

    await any_store.set_fields(THINGS, {"a": {"n": 2}, "b": {"n": 2}, "new": {"n": 3}}, scope={"companyId": "c1"}, upsert=True)
    await any_store.set_fields(THINGS, {"a": {"n": 9}}, scope={"$or": [{"n": {"$lte": 1}}, {"n": None}]})  # a is 2 now: untouched

    assert sorted((d["_id"], d.get("companyId"), d["n"]) for d in await any_store.find_many(THINGS, {})) == [
        ("a", "c1", 2),
        ("b", "c2", 1),  # another company's: not matched
        ("new", "c1", 3),
    ]


async def test_count_by_counts_the_documents_of_each_value_its_query_matches(any_store):
    docs = [{"_id": i, "rsid": "r", "transactionId": f"t{i % 3}" if i % 4 else None, "link": "TRANSACTION"} for i in range(12)]
    await any_store.insert_many(THINGS, docs)

    counted = await any_store.count_by(THINGS, {"rsid": "r", "transactionId": {"$in": ["t0", "t1", "t9"]}}, "transactionId")

    # t0: 3, 6, 9 (0 has no id); t1: 1, 7, 10 (4 has none); t9: none at all
    assert counted == {"t0": 3, "t1": 3}


async def test_find_pages_reads_the_pages_of_several_queries_in_one_round_trip(any_store):
    await any_store.insert_many(THINGS, [{"_id": f"t{i:02d}", "kind": i % 3, "n": i} for i in range(12)])
    await any_store.insert_many(OTHERS, [{"_id": "o1", "kind": 0}, {"_id": "o2", "kind": 0}])
    before = any_store.round_trips

    pages = await any_store.find_pages(
        [
            PageQuery(THINGS, {"kind": 0}, (("_id", 1),), 2),
            PageQuery(THINGS, keyset({"kind": 1}, "_id", True, "t07"), (("_id", -1),), 5),
            PageQuery(OTHERS, {"kind": 0}, (("n", 1), ("_id", -1)), 1),
            PageQuery(THINGS, {"kind": 9}, (("_id", 1),), 3),
            PageQuery(THINGS, {"kind": 2}, (("_id", 1),), 0),
        ]
    )

    assert any_store.round_trips - before == 1
    assert [([d["_id"] for d in docs], more) for docs, more in pages] == [
        (["t00", "t03"], True),
        (["t04", "t01"], False),
        (["o2"], True),
        ([], False),
        ([], True),
    ]
    assert pages[0][0][0] == {"_id": "t00", "kind": 0, "n": 0}  # the documents as stored
    assert await any_store.find_pages([]) == []


async def test_a_company_views_pages_and_pipelines_see_its_own_documents_only(any_store, ours):
    await any_store.insert_many(OTHERS, [{"_id": "o-ours", "companyId": OURS, "n": 5}, {"_id": "o-theirs", "companyId": THEIRS, "n": 7}])

    (page,) = await ours.find_pages([PageQuery(THINGS, {}, (("_id", 1),), 10)])
    union = await ours.aggregate(
        THINGS, [{"$unionWith": {"coll": OTHERS, "pipeline": [{"$match": {"n": {"$gt": 0}}}]}}, {"$sort": {"_id": 1}}]
    )

    assert [d["_id"] for d in page[0]] == ["ours-1", "ours-2"]
    assert [d["_id"] for d in union] == ["o-ours", "ours-1", "ours-2"]


@pytest.mark.parametrize(
    "stage",
    [
        {"$lookup": {"from": OTHERS, "localField": "_id", "foreignField": "_id", "as": "x"}},
        {"$facet": {"a": [{"$lookup": {"from": OTHERS, "localField": "_id", "foreignField": "_id", "as": "x"}}]}},
        {"$out": OTHERS},
    ],
    ids=["lookup", "lookup in a facet", "out"],
)
async def test_a_company_view_refuses_a_pipeline_that_would_read_or_write_beyond_its_documents(any_store, stage):
    with pytest.raises(ValueError, match="beyond the company's documents"):
        await any_store.company(OURS).aggregate(THINGS, [stage])
