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

    assert main(["create-company", "Acme"]) == 2

    err = capsys.readouterr().err
    assert err.startswith("error: The embedded store needs mongomock") and "Traceback" not in err


async def test_id_lookups_and_other_queries_give_the_same_documents(store):
    await store.insert_many("things", [{"_id": f"t{i}", "n": i % 3} for i in range(10)])

    by_id = await store.find_many("things", {"_id": {"$in": ["t1", "t4", "missing", "t1"]}, "n": 1})
    scanned = await store.find_many("things", {"n": 1, "_id": {"$ne": "t7"}})

    assert sorted(d["_id"] for d in by_id) == ["t1", "t4"]
    assert sorted(d["_id"] for d in scanned) == ["t1", "t4"]


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
