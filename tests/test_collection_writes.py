"""What one collectHits call writes, on both stores: each visitor's state once per round,
the hits once, and each hit's digest computed once."""

import hashlib
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest

from models import clock
from models import hits as hit_model
from models import store as collections
from models.hits import HitIn
from resolvers import collection, report_suites
from tests.conftest import make_company

DAY_ZERO = datetime.combine(datetime.now(UTC).date() - timedelta(days=5), time(), UTC)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: DAY_ZERO + timedelta(days=4))


def at(minutes: int) -> str:
    return (DAY_ZERO + timedelta(minutes=minutes)).isoformat()


def count_writes(monkeypatch, store) -> Counter:
    """Counts (method, collection) store calls, with the documents each carried."""
    calls: Counter = Counter()
    for name in ("insert_many", "replace_many_versioned"):
        original = getattr(store, name)

        async def counted(collection_name, docs, *args, _original=original, _name=name, **kwargs):
            calls[(_name, collection_name)] += 1
            calls[(_name, collection_name, "docs")] += len(docs)
            return await _original(collection_name, docs, *args, **kwargs)

        monkeypatch.setattr(store, name, counted)
    return calls


async def test_each_visitor_state_is_written_once_a_call(any_store, monkeypatch):
    company = await make_company(any_store)
    await report_suites.create(any_store, company.admin, "shop", "Shop")
    calls = count_writes(monkeypatch, any_store)
    first = [HitIn("a", at(0)), HitIn("b", at(1)), HitIn("a", at(2))]
    second = [HitIn("a", at(10)), HitIn("b", at(11))]

    await collection.collect_hits(any_store, company.uploader, "shop", first)
    await collection.collect_hits(any_store, company.uploader, "shop", second)

    assert calls[("replace_many_versioned", collections.VISITORS)] == 2  # one per call
    assert calls[("replace_many_versioned", collections.VISITORS, "docs")] == 4  # each visitor once a call
    assert calls[("insert_many", collections.HITS, "docs")] == 5  # each hit once
    stored = await any_store.find_many(collections.HITS, {"rsid": "shop"})
    assert sorted((h["visitorId"], h["seq"]) for h in stored) == [("a", 1), ("a", 2), ("a", 3), ("b", 1), ("b", 2)]


async def test_each_hits_digest_is_computed_once(store, company, monkeypatch):
    await report_suites.create(store, company.admin, "shop", "Shop")
    digests = []
    original = hashlib.sha256

    def counting(data):
        digests.append(data)
        return original(data)

    monkeypatch.setattr(hit_model.hashlib, "sha256", counting)

    await collection.collect_hits(store, company.uploader, "shop", [HitIn("a", at(n), evars=((1, str(n)),)) for n in range(20)])

    assert len(digests) == 20
