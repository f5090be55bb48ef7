"""collect_hits on both stores (embedded and a real MongoDB wire server): what it writes
for visitors, hits and snapshots, and that it reads back as written."""

from datetime import UTC, datetime, time, timedelta

import pytest

from models import clock
from models import store as collections
from models.hits import HitIn
from models.profiles import VisitorState, carried_docs
from models.snapshots import Snapshot, TransactionIdResult, TransactionStatus
from models.store import DuplicateKey
from resolvers import collection, report_suites, visitors
from tests.conftest import make_company

# In the real calendar's recent past: the TTL index removes snapshots past their expiry by
# the real clock on both stores.
DAY_ZERO = datetime.combine(datetime.now(UTC).date() - timedelta(days=10), time(), UTC)
RSID = "telco"


def moment(day: int, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return DAY_ZERO + timedelta(days=day, hours=hours, minutes=minutes)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: moment(9, "12:00"))


@pytest.fixture
async def acme(any_store):
    company = await make_company(any_store)
    # New York: a hit at 03:00 UTC is still the day before in the suite's calendar.
    await report_suites.create(any_store, company.admin, RSID, "Telco", time_zone="America/New_York")
    await report_suites.set_recording(any_store, company.admin, RSID, True)
    return company


def aware(value) -> bool:
    return isinstance(value, datetime) and value.utcoffset() is not None


async def test_collected_visitors_hits_and_snapshots_are_stored_and_read_back(any_store, acme):
    result = await collection.collect_hits(
        any_store,
        acme.uploader,
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
        f"{RSID}|cust-42",
        RSID,
        acme.id,
        2,
        1,
        [f"{RSID}|cust-42|1", f"{RSID}|cust-42|2"],
    )
    assert aware(doc["firstSeen"]) and aware(doc["lastSeen"]) and aware(doc["values"]["evar2"]["setAt"])
    assert (doc["firstSeen"], doc["lastSeen"]) == (moment(1, "03:00"), moment(1, "03:10"))
    state = await visitors.get_visitor(any_store, acme.reader, RSID, "cust-42")
    assert isinstance(state, VisitorState)
    assert {k: (p.value, p.set_at, p.visit) for k, p in state.values.items()} == {
        "evar1": ("search", moment(1, "03:00"), 1),
        "evar2": ("fibre-1000", moment(1, "03:10"), 1),
        "trackingCode": ("tv", moment(1, "03:00"), 1),
    }

    # hits, newest first; their day is the suite's (New York), fixed when written
    hits, more = await visitors.page_hits(
        any_store, acme.reader, await visitors.get_visitor(any_store, acme.reader, RSID, "cust-42"), None, 10
    )
    assert more is False
    assert [(h.id, h.seq, h.at, h.local_day, h.visit_number) for h in hits] == [
        (f"{RSID}|cust-42|2", 2, moment(1, "03:10"), (DAY_ZERO + timedelta(days=0)).date().isoformat(), 1),
        (f"{RSID}|cust-42|1", 1, moment(1, "03:00"), (DAY_ZERO + timedelta(days=0)).date().isoformat(), 1),
    ]
    assert all(aware(h.at) for h in hits)
    assert hits[0].values == {"evar1": "search", "evar2": "fibre-1000", "trackingCode": "tv"}
    assert hits[0].events == {"event1": 1.0, "revenue": 49.5}
    assert hits[0].transaction_id == "call_1,lead_1"
    other, _ = await visitors.page_hits(
        any_store, acme.reader, await visitors.get_visitor(any_store, acme.reader, RSID, "cust-7"), None, 10
    )
    assert [(h.local_day, h.values) for h in other] == [((DAY_ZERO + timedelta(days=1)).date().isoformat(), {"pageName": "home"})]

    # snapshots: one per id, of the same state, tied to the hit that made them
    stored = {d["transactionId"]: d for d in await any_store.find_many(collections.SNAPSHOTS, {})}
    assert sorted(stored) == ["call_1", "lead_1"]
    for transaction_id in ("call_1", "lead_1"):
        snapshot = await visitors.get_transaction(any_store, acme.reader, RSID, transaction_id)
        assert isinstance(snapshot, Snapshot)
        assert (snapshot.visitor_id, snapshot.hit_id, snapshot.visit_number, snapshot.company_id) == (
            "cust-42",
            f"{RSID}|cust-42|2",
            1,
            acme.id,
        )
        assert snapshot.values == {"evar1": "search", "evar2": "fibre-1000", "trackingCode": "tv"}
        assert aware(snapshot.recorded_at) and aware(snapshot.expires_at)
        assert snapshot.recorded_at == moment(1, "03:10")
        assert snapshot.expires_at == moment(1, "03:10") + timedelta(days=90)
        assert snapshot.status(clock.now()) is TransactionStatus.UNLINKED
    assert sorted(s.transaction_id for s in result.snapshots) == ["call_1", "lead_1"]


async def test_a_second_call_continues_the_visitor_and_a_taken_id_makes_no_second_snapshot(any_store, acme):
    await collection.collect_hits(
        any_store, acme.uploader, RSID, [HitIn("cust-42", moment(1, "09:00").isoformat(), evars=((1, "a"),), transaction_id="t-2")]
    )

    second = await collection.collect_hits(
        any_store,
        acme.uploader,
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

    state = await visitors.get_visitor(any_store, acme.reader, RSID, "cust-42")
    assert (state.seq, state.visit_count, state.unwritten, state.last_seen) == (3, 2, (), moment(1, "11:00"))
    hits, _ = await visitors.page_hits(
        any_store, acme.reader, await visitors.get_visitor(any_store, acme.reader, RSID, "cust-42"), None, 10
    )
    assert [h.seq for h in hits] == [3, 2, 1]
    assert [h.transaction_id for h in hits] == [None, "t-2", "t-2"]  # collected as sent


async def test_the_unique_index_refuses_a_second_snapshot_for_the_same_id(any_store, acme):
    result = await collection.collect_hits(
        any_store, acme.uploader, RSID, [HitIn("cust-42", moment(1, "09:00").isoformat(), transaction_id="t-9")]
    )
    doc = result.snapshots[0].to_doc()
    assert doc["_id"] == f"{RSID}|t-9"  # the natural key is the unique _id

    with pytest.raises(DuplicateKey):
        await any_store.insert(collections.SNAPSHOTS, doc | {"visitorId": "cust-77"})
    other = dict(doc, _id=f"{RSID}|t-10", transactionId="t-10")
    refused = await any_store.insert_many(collections.SNAPSHOTS, [doc | {"visitorId": "cust-77"}, other])
    assert refused == {0}

    stored = {d["transactionId"]: d for d in await any_store.find_many(collections.SNAPSHOTS, {})}
    assert sorted(stored) == ["t-10", "t-9"]
    assert stored["t-9"]["visitorId"] == "cust-42"  # the first one stays as it was
    assert aware(stored["t-9"]["recordedAt"]) and stored["t-9"]["recordedAt"] == moment(1, "09:00")


async def test_the_same_id_in_another_report_suite_is_its_own_snapshot(any_store, acme):
    await report_suites.create(any_store, acme.admin, "shop", "Shop")
    await report_suites.set_recording(any_store, acme.admin, "shop", True)

    for rsid in (RSID, "shop"):
        result = await collection.collect_hits(
            any_store, acme.uploader, rsid, [HitIn("cust-42", moment(1, "09:00").isoformat(), transaction_id="t-1")]
        )
        assert result.outcomes[0].transaction_ids == [("t-1", TransactionIdResult.SNAPSHOT_MADE)]

    assert sorted(d["rsid"] for d in await any_store.find_many(collections.SNAPSHOTS, {})) == ["shop", RSID]
    assert sorted(d["_id"] for d in await any_store.find_many(collections.VISITORS, {})) == ["shop|cust-42", f"{RSID}|cust-42"]


async def test_an_out_of_order_hit_is_refused_on_the_stored_state(any_store, acme):
    await collection.collect_hits(any_store, acme.uploader, RSID, [HitIn("cust-42", moment(1, "09:00").isoformat())])

    result = await collection.collect_hits(
        any_store,
        acme.uploader,
        RSID,
        [HitIn("cust-42", moment(1, "08:59").isoformat(), transaction_id="t-1"), HitIn("cust-42", moment(1, "09:01").isoformat())],
    )

    assert [[p.code for p in o.problems] for o in result.outcomes] == [["OUT_OF_ORDER"], []]
    assert await any_store.find_many(collections.SNAPSHOTS, {}) == []
    assert sorted(d["seq"] for d in await any_store.find_many(collections.HITS, {})) == [1, 2]


async def test_other_companies_read_nothing_of_it(any_store, acme):
    other = await make_company(any_store, "Globex")
    await collection.collect_hits(any_store, acme.uploader, RSID, [HitIn("cust-42", moment(1, "09:00").isoformat(), transaction_id="t-1")])

    assert await visitors.get_visitor(any_store, other.reader, RSID, "cust-42") is None
    assert await visitors.get_transaction(any_store, other.reader, RSID, "t-1") is None
    acmes_visitor = await visitors.get_visitor(any_store, acme.reader, RSID, "cust-42")
    assert await visitors.page_hits(any_store, other.reader, acmes_visitor, None, 10) == ([], False)
    assert await visitors.page_visitors(any_store, other.reader, RSID, None, 10) == ([], False)
    assert await visitors.get_visitors(any_store, other.reader, [f"{RSID}|cust-42"]) == [None]
    assert await visitors.get_hits(any_store, other.reader, [f"{RSID}|cust-42|1"]) == [None]
