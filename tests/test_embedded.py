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
