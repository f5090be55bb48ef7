"""resolvers/collection.py on both stores (embedded and a real MongoDB wire server): what
collect_hits writes for visitors, hits and snapshots and that it reads back as written,
and its commit protocol: calls that race, and calls sent again after a failure or a lost
answer. The per-call rules, through the graph, are in test_graph_collection.py."""

import asyncio
from datetime import datetime, timedelta

import pytest

from models import clock
from models import store as collections
from models.hits import HitIn
from models.keys import hit_key, snapshot_key, visitor_key
from models.profiles import VisitorState, carried_docs
from models.snapshots import Snapshot, TransactionIdResult, TransactionStatus
from models.store import DuplicateKey, StoreUnavailable
from resolvers import collection, report_suites, visitors
from tests.conftest import make_company
from tests.helpers import DAY_ZERO, RSID, at, moment

pytestmark = [pytest.mark.wire, pytest.mark.usefixtures("today")]


def aware(value) -> bool:
    return isinstance(value, datetime) and value.utcoffset() is not None


# --- what collect_hits writes ---------------------------------------------------------


async def test_collected_visitors_hits_and_snapshots_are_stored_and_read_back(any_store, any_company):
    result = await collection.collect_hits(
        any_store,
        any_company.uploader,
        RSID,
        [
            HitIn("cust-42", moment(1, "03:00").isoformat(), evars=((1, "search"), (2, "fibre-500")), dimensions={"trackingCode": "tv"}),
            HitIn(
                "cust-42",
                moment(1, "03:10").isoformat(),
                evars=((2, "fibre-1000"),),
                events=(("event1", 1.0), ("revenue", 49.5)),
                transaction_id="call_1,lead_1",
            ),
            HitIn("cust-7", moment(1, "15:00").isoformat(), dimensions={"pageName": "home"}),
        ],
    )

    assert [o.problems for o in result.outcomes] == [[], [], []]
    assert [o.visit_number for o in result.outcomes] == [1, 1, 1]
    assert result.outcomes[1].transaction_ids == [
        ("call_1", TransactionIdResult.SNAPSHOT_MADE),
        ("lead_1", TransactionIdResult.SNAPSHOT_MADE),
    ]

    # visitors
    docs = {d["visitorId"]: d for d in await any_store.find_many(collections.VISITORS, {})}
    assert sorted(docs) == ["cust-42", "cust-7"]
    doc = docs["cust-42"]
    # The state keeps the documents of the hits its last round applied until its next write
    # (resolvers/collection.py): both are stored, as the hits read back below show.
    assert (doc["_id"], doc["rsid"], doc["companyId"], doc["seq"], doc["visitCount"], [h["_id"] for h in carried_docs(doc)]) == (
        visitor_key(any_company.id, RSID, "cust-42"),
        RSID,
        any_company.id,
        2,
        1,
        [hit_key(any_company.id, RSID, "cust-42", 1), hit_key(any_company.id, RSID, "cust-42", 2)],
    )
    assert aware(doc["firstSeen"]) and aware(doc["lastSeen"]) and aware(doc["values"]["evar2"]["setAt"])
    assert (doc["firstSeen"], doc["lastSeen"]) == (moment(1, "03:00"), moment(1, "03:10"))
    state = await visitors.get_visitor(any_store, any_company.reader, RSID, "cust-42")
    assert isinstance(state, VisitorState)
    assert {k: (p.value, p.set_at, p.visit) for k, p in state.values.items()} == {
        "evar1": ("search", moment(1, "03:00"), 1),
        "evar2": ("fibre-1000", moment(1, "03:10"), 1),
        "trackingCode": ("tv", moment(1, "03:00"), 1),
    }

    # hits, newest first; their day is the suite's, fixed when written: in New York a hit
    # at 03:00 UTC is still the day before
    hits, more = await visitors.page_hits(
        any_store, any_company.reader, await visitors.get_visitor(any_store, any_company.reader, RSID, "cust-42"), None, 10
    )
    assert more is False
    assert [(h.id, h.seq, h.at, h.local_day, h.visit_number) for h in hits] == [
        (hit_key(any_company.id, RSID, "cust-42", 2), 2, moment(1, "03:10"), (DAY_ZERO + timedelta(days=0)).date().isoformat(), 1),
        (hit_key(any_company.id, RSID, "cust-42", 1), 1, moment(1, "03:00"), (DAY_ZERO + timedelta(days=0)).date().isoformat(), 1),
    ]
    assert all(aware(h.at) for h in hits)
    assert hits[0].values == {"evar1": "search", "evar2": "fibre-1000", "trackingCode": "tv"}
    assert hits[0].events == {"event1": 1.0, "revenue": 49.5}
    assert hits[0].transaction_id == "call_1,lead_1"
    other, _ = await visitors.page_hits(
        any_store, any_company.reader, await visitors.get_visitor(any_store, any_company.reader, RSID, "cust-7"), None, 10
    )
    assert [(h.local_day, h.values) for h in other] == [((DAY_ZERO + timedelta(days=1)).date().isoformat(), {"pageName": "home"})]

    # snapshots: one per id, of the same state, tied to the hit that made them
    stored = {d["transactionId"]: d for d in await any_store.find_many(collections.SNAPSHOTS, {})}
    assert sorted(stored) == ["call_1", "lead_1"]
    for transaction_id in ("call_1", "lead_1"):
        snapshot = await visitors.get_transaction(any_store, any_company.reader, RSID, transaction_id)
        assert isinstance(snapshot, Snapshot)
        assert (snapshot.visitor_id, snapshot.hit_id, snapshot.visit_number, snapshot.company_id) == (
            "cust-42",
            hit_key(any_company.id, RSID, "cust-42", 2),
            1,
            any_company.id,
        )
        assert snapshot.values == {"evar1": "search", "evar2": "fibre-1000", "trackingCode": "tv"}
        assert aware(snapshot.recorded_at) and aware(snapshot.expires_at)
        assert snapshot.recorded_at == moment(1, "03:10")
        assert snapshot.expires_at == moment(1, "03:10") + timedelta(days=90)
        assert snapshot.status(clock.now()) is TransactionStatus.UNLINKED
    assert sorted(s.transaction_id for s in result.snapshots) == ["call_1", "lead_1"]


async def test_a_second_call_continues_the_visitor_and_a_taken_id_makes_no_second_snapshot(any_store, any_company):
    await collection.collect_hits(
        any_store, any_company.uploader, RSID, [HitIn("cust-42", moment(1, "09:00").isoformat(), evars=((1, "a"),), transaction_id="t-2")]
    )

    second = await collection.collect_hits(
        any_store,
        any_company.uploader,
        RSID,
        [
            HitIn("cust-42", moment(1, "09:20").isoformat(), evars=((1, "b"),), transaction_id="t-2"),
            HitIn("cust-77", moment(1, "09:30").isoformat(), evars=((1, "c"),), transaction_id="t-2"),
            HitIn("cust-42", moment(1, "11:00").isoformat()),
        ],
    )

    assert [o.transaction_ids for o in second.outcomes] == [
        [("t-2", TransactionIdResult.ALREADY_RECORDED)],
        [("t-2", TransactionIdResult.ALREADY_RECORDED)],
        [],
    ]
    assert second.snapshots == []
    assert [o.visit_number for o in second.outcomes] == [1, 1, 2]
    snapshots = await any_store.find_many(collections.SNAPSHOTS, {})
    assert len(snapshots) == 1
    assert (snapshots[0]["visitorId"], snapshots[0]["values"]) == ("cust-42", {"evar1": "a"})

    state = await visitors.get_visitor(any_store, any_company.reader, RSID, "cust-42")
    assert (state.seq, state.visit_count, state.unwritten, state.last_seen) == (3, 2, (), moment(1, "11:00"))
    hits, _ = await visitors.page_hits(
        any_store, any_company.reader, await visitors.get_visitor(any_store, any_company.reader, RSID, "cust-42"), None, 10
    )
    assert [h.seq for h in hits] == [3, 2, 1]
    assert [h.transaction_id for h in hits] == [None, "t-2", "t-2"]  # collected as sent


async def test_the_unique_index_refuses_a_second_snapshot_for_the_same_id(any_store, any_company):
    result = await collection.collect_hits(
        any_store, any_company.uploader, RSID, [HitIn("cust-42", moment(1, "09:00").isoformat(), transaction_id="t-9")]
    )
    doc = result.snapshots[0].to_doc()
    assert doc["_id"] == snapshot_key(any_company.id, RSID, "t-9")  # the natural key is the unique _id

    with pytest.raises(DuplicateKey):
        await any_store.insert(collections.SNAPSHOTS, doc | {"visitorId": "cust-77"})
    other = dict(doc, _id=snapshot_key(any_company.id, RSID, "t-10"), transactionId="t-10")
    refused = await any_store.insert_many(collections.SNAPSHOTS, [doc | {"visitorId": "cust-77"}, other])
    assert refused == {0}

    stored = {d["transactionId"]: d for d in await any_store.find_many(collections.SNAPSHOTS, {})}
    assert sorted(stored) == ["t-10", "t-9"]
    assert stored["t-9"]["visitorId"] == "cust-42"  # the first one stays as it was
    assert aware(stored["t-9"]["recordedAt"]) and stored["t-9"]["recordedAt"] == moment(1, "09:00")


async def test_the_same_id_in_another_report_suite_is_its_own_snapshot(any_store, any_company):
    await report_suites.create(any_store, any_company.admin, "shop", "Shop")
    await report_suites.set_recording(any_store, any_company.admin, "shop", True)

    for rsid in (RSID, "shop"):
        result = await collection.collect_hits(
            any_store, any_company.uploader, rsid, [HitIn("cust-42", moment(1, "09:00").isoformat(), transaction_id="t-1")]
        )
        assert result.outcomes[0].transaction_ids == [("t-1", TransactionIdResult.SNAPSHOT_MADE)]

    assert sorted(d["rsid"] for d in await any_store.find_many(collections.SNAPSHOTS, {})) == sorted(["shop", RSID])
    assert sorted(d["_id"] for d in await any_store.find_many(collections.VISITORS, {})) == sorted(
        [visitor_key(any_company.id, r, "cust-42") for r in ("shop", RSID)]
    )


async def test_two_companies_with_the_same_rsid_visitor_and_transaction_id_never_meet(any_store, any_company):
    other = await make_company(any_store, "Globex")
    await report_suites.create(any_store, other.admin, RSID, "Globex furniture", time_zone="America/New_York")
    await report_suites.set_recording(any_store, other.admin, RSID, True)

    for company, page in ((any_company, "acme-home"), (other, "globex-home")):
        result = await collection.collect_hits(
            any_store,
            company.uploader,
            RSID,
            [HitIn("cust-42", moment(1, "09:00").isoformat(), dimensions={"pageName": page}, transaction_id="t-1")],
        )
        assert result.outcomes[0].transaction_ids == [("t-1", TransactionIdResult.SNAPSHOT_MADE)]

    for company, page in ((any_company, "acme-home"), (other, "globex-home")):
        state = await visitors.get_visitor(any_store, company.reader, RSID, "cust-42")
        (stored_hit,), _ = await visitors.page_hits(any_store, company.reader, state, None, 10)
        snapshot = await visitors.get_transaction(any_store, company.reader, RSID, "t-1")
        assert (state.company_id, state.seq, stored_hit.values["pageName"]) == (company.id, 1, page)
        assert (snapshot.company_id, snapshot.hit_id) == (company.id, stored_hit.id)
    for name in (collections.REPORT_SUITES, collections.VISITORS, collections.HITS, collections.SNAPSHOTS):
        assert sorted(d["companyId"] for d in await any_store.find_many(name, {})) == sorted([any_company.id, other.id]), name


# --- calls that race --------------------------------------------------------------------


@pytest.fixture
def interleaved(any_store, any_company, monkeypatch) -> None:
    """Make every store call yield to the event loop first, as a network round trip does,
    so that concurrent calls interleave on the embedded store too."""
    for name in ("find_one", "find_many", "insert_many", "replace_many_versioned"):
        original = getattr(any_store, name)

        async def yielding(*args, _original=original, **kwargs):
            await asyncio.sleep(0)
            return await _original(*args, **kwargs)

        monkeypatch.setattr(any_store, name, yielding)


def hit(visitor: str, day: int, time: str, evar: str, transaction_id: str = "T-1") -> list[HitIn]:
    """A call of one hit: `visitor` sets evar1 to `evar` and carries `transaction_id`."""
    return [HitIn(visitor, at(day, time), evars=((1, evar),), transaction_id=transaction_id)]


async def test_concurrent_calls_with_one_id_make_one_snapshot_from_the_hit_recorded_first(any_store, any_company, interleaved):
    results = await asyncio.gather(
        collection.collect_hits(any_store, any_company.uploader, RSID, hit("a", 0, "10:00", "first")),
        collection.collect_hits(any_store, any_company.uploader, RSID, hit("b", 0, "10:20", "second")),
    )

    snapshots = await any_store.find_many(collections.SNAPSHOTS, {"rsid": RSID, "transactionId": "T-1"})
    assert len(snapshots) == 1
    winners = [r for r in results if r.outcomes[0].transaction_ids == [("T-1", TransactionIdResult.SNAPSHOT_MADE)]]
    losers = [r for r in results if r.outcomes[0].transaction_ids == [("T-1", TransactionIdResult.ALREADY_RECORDED)]]
    assert (len(winners), len(losers)) == (1, 1)
    assert [s.visitor_id for s in winners[0].snapshots] == [snapshots[0]["visitorId"]]
    assert losers[0].outcomes[0].collected and losers[0].snapshots == []


async def test_a_recorded_snapshot_never_changes_when_an_earlier_hit_arrives_late(any_store, any_company, interleaved):
    await collection.collect_hits(any_store, any_company.uploader, RSID, hit("b", 0, "10:20", "second"))

    late = await collection.collect_hits(any_store, any_company.uploader, RSID, hit("a", 0, "10:00", "first"))

    assert late.outcomes[0].collected
    assert late.outcomes[0].transaction_ids == [("T-1", TransactionIdResult.ALREADY_RECORDED)]
    (snapshot,) = await any_store.find_many(collections.SNAPSHOTS, {"rsid": RSID})
    assert (snapshot["visitorId"], snapshot["values"]) == ("b", {"evar1": "second"})
    assert isinstance(snapshot["recordedAt"], datetime)


async def test_concurrent_calls_for_one_visitor_lose_no_hit(any_store, any_company, interleaved):
    calls = [
        collection.collect_hits(any_store, any_company.uploader, RSID, hit("same", 0, f"10:{minute:02d}", str(minute), f"T-{minute}"))
        for minute in range(0, 50, 10)
    ]

    results = await asyncio.gather(*calls)

    collected = [r.outcomes[0] for r in results if r.outcomes[0].collected]
    refused = [r.outcomes[0] for r in results if not r.outcomes[0].collected]
    assert all(o.problems[0].code == "OUT_OF_ORDER" for o in refused)
    state = await any_store.find_one(collections.VISITORS, {"rsid": RSID, "visitorId": "same"})
    hits = await any_store.find_many(collections.HITS, {"rsid": RSID, "visitorId": "same"})
    assert state["seq"] == len(hits) == len(collected)
    assert sorted(h["seq"] for h in hits) == list(range(1, len(hits) + 1))


# --- sent again: nothing lost, nothing counted twice -----------------------------------


def three_hits() -> list[HitIn]:
    return [
        HitIn("v", at(0, "10:00"), evars=((1, "email"),)),
        HitIn("v", at(0, "10:05"), events=(("revenue", 120.0),), transaction_id="lead_1"),
        HitIn("v", at(0, "10:10"), dimensions={"pageName": "thanks"}),
    ]


async def stored_counts(any_store) -> tuple[int, int, int]:
    state = await any_store.find_one(collections.VISITORS, {"rsid": RSID, "visitorId": "v"})
    hits = await any_store.find_many(collections.HITS, {"rsid": RSID, "visitorId": "v"})
    snapshots = await any_store.find_many(collections.SNAPSHOTS, {"rsid": RSID})
    return (state["seq"] if state else 0), len(hits), len(snapshots)


def fail_once(monkeypatch, store, method: str, collection_name: str) -> None:
    """The next `method` call on `collection_name` fails as a lost connection would."""
    original = getattr(store, method)
    failed = []

    async def flaky(collection, docs, *args, **kwargs):
        if collection == collection_name and docs and not failed:
            failed.append(True)
            raise StoreUnavailable("AutoReconnect")
        return await original(collection, docs, *args, **kwargs)

    monkeypatch.setattr(store, method, flaky)


async def test_a_call_sent_again_counts_nothing_twice(any_store, any_company, interleaved):
    first = await collection.collect_hits(any_store, any_company.uploader, RSID, three_hits())

    again = await collection.collect_hits(any_store, any_company.uploader, RSID, three_hits())

    assert [o.already_collected for o in first.outcomes] == [False] * 3
    assert [(o.collected, o.already_collected) for o in again.outcomes] == [(True, True)] * 3
    assert [o.visit_number for o in again.outcomes] == [1, 1, 1]
    assert again.outcomes[1].transaction_ids == [("lead_1", TransactionIdResult.SNAPSHOT_MADE)]
    assert await stored_counts(any_store) == (3, 3, 1)


async def test_a_failure_before_the_visitor_is_written_is_mended_by_sending_again(any_store, any_company, interleaved, monkeypatch):
    fail_once(monkeypatch, any_store, "replace_many_versioned", collections.VISITORS)
    with pytest.raises(StoreUnavailable):
        await collection.collect_hits(any_store, any_company.uploader, RSID, three_hits())
    assert (await stored_counts(any_store))[0] == 0  # no state covers the hits written

    again = await collection.collect_hits(any_store, any_company.uploader, RSID, three_hits())

    assert [(o.collected, o.already_collected) for o in again.outcomes] == [(True, False)] * 3
    assert await stored_counts(any_store) == (3, 3, 1)


async def test_a_failure_before_the_snapshots_is_mended_by_sending_again(any_store, any_company, interleaved, monkeypatch):
    fail_once(monkeypatch, any_store, "insert_many", collections.SNAPSHOTS)
    with pytest.raises(StoreUnavailable):
        await collection.collect_hits(any_store, any_company.uploader, RSID, three_hits())
    assert await stored_counts(any_store) == (3, 3, 0)

    again = await collection.collect_hits(any_store, any_company.uploader, RSID, three_hits())

    assert all(o.already_collected for o in again.outcomes)
    assert again.outcomes[1].transaction_ids == [("lead_1", TransactionIdResult.SNAPSHOT_MADE)]
    assert await stored_counts(any_store) == (3, 3, 1)


async def test_a_failure_after_the_visitor_is_written_loses_no_hit(any_store, any_company, interleaved, monkeypatch):
    fail_once(monkeypatch, any_store, "insert_many", collections.HITS)
    with pytest.raises(StoreUnavailable):
        await collection.collect_hits(any_store, any_company.uploader, RSID, three_hits())
    assert await stored_counts(any_store) == (3, 0, 0)  # counted by the state, not stored yet

    later = await collection.collect_hits(any_store, any_company.uploader, RSID, [HitIn("v", at(0, "11:00"), evars=((2, "other"),))])
    again = await collection.collect_hits(any_store, any_company.uploader, RSID, three_hits())

    assert later.outcomes[0].collected and later.outcomes[0].visit_number == 2
    assert all(o.already_collected for o in again.outcomes)
    assert again.outcomes[1].transaction_ids == [("lead_1", TransactionIdResult.SNAPSHOT_MADE)]
    assert await stored_counts(any_store) == (4, 4, 1)
    state = await visitors.get_visitor(any_store, any_company.reader, RSID, "v")
    listed, _ = await visitors.page_hits(any_store, any_company.reader, state, None, 10)
    assert [h.seq for h in listed] == [4, 3, 2, 1] and state.unwritten == ()


async def test_a_call_of_a_thousand_hits_for_one_visitor_sent_again_counts_nothing_twice(any_store, any_company, interleaved):
    hits = [HitIn("v", at(0, "10:00"), evars=((1, f"value {n}"),)) for n in range(1000)]

    await collection.collect_hits(any_store, any_company.uploader, RSID, hits)
    again = await collection.collect_hits(any_store, any_company.uploader, RSID, hits)

    assert all(o.already_collected for o in again.outcomes)
    assert (await stored_counts(any_store))[:2] == (1000, 1000)


async def test_the_same_hit_twice_in_a_call_sent_again_gets_the_same_answers(any_store, any_company, interleaved):
    twice = [HitIn("v", at(0, "10:00"), transaction_id="t-9")] * 2

    first = await collection.collect_hits(any_store, any_company.uploader, RSID, twice)
    again = await collection.collect_hits(any_store, any_company.uploader, RSID, twice)

    def answers(result):
        return [(o.visit_number, o.transaction_ids) for o in result.outcomes]

    assert (
        answers(again)
        == answers(first)
        == [(1, [("t-9", TransactionIdResult.SNAPSHOT_MADE)]), (1, [("t-9", TransactionIdResult.ALREADY_RECORDED)])]
    )
    assert first.outcomes[1].already_collected and (await stored_counts(any_store))[:2] == (1, 1)


async def test_a_resent_hit_lists_its_expired_snapshot_once(any_store, any_company, interleaved, today):
    await report_suites.update(any_store, any_company.admin, RSID, transaction_id_window_days=30)
    await collection.collect_hits(any_store, any_company.uploader, RSID, hit("v", 0, "10:00", "a"))
    today.now = moment(40, "12:00")
    await report_suites.update(any_store, any_company.admin, RSID, transaction_id_window_days=90)

    again = await collection.collect_hits(any_store, any_company.uploader, RSID, hit("v", 0, "10:00", "a"))

    assert [s.transaction_id for s in again.snapshots] == ["T-1"]


async def test_the_same_call_sent_twice_at_once_counts_each_hit_once(any_store, any_company, interleaved):
    results = await asyncio.gather(*(collection.collect_hits(any_store, any_company.uploader, RSID, three_hits()) for _ in range(3)))

    assert all(o.collected for r in results for o in r.outcomes)
    assert sorted(sum(o.already_collected for o in r.outcomes) for r in results) == [0, 3, 3]
    listed, _ = await visitors.page_hits(
        any_store, any_company.reader, await visitors.get_visitor(any_store, any_company.reader, RSID, "v"), None, 10
    )
    assert [h.seq for h in listed] == [3, 2, 1]
    assert await stored_counts(any_store) == (3, 3, 1)


async def test_a_visitors_hits_too_big_for_one_state_document_are_stored_in_rounds(any_store, any_company, interleaved, monkeypatch):
    monkeypatch.setattr(collection, "UNWRITTEN_BYTES", 2000)  # about three of these hits a round
    hits = [HitIn("v", at(0, f"10:{n:02d}"), evars=((1, "x" * 200), (2, str(n)))) for n in range(10)]

    result = await collection.collect_hits(any_store, any_company.uploader, RSID, hits)

    assert all(o.collected for o in result.outcomes)
    assert (await stored_counts(any_store))[:2] == (10, 10)
