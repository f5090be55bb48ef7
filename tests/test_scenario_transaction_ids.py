"""collectHits: the Transaction ID rules of DOMAIN.md and EXAMPLES.md, through the graph
and, where calls race, on both stores."""

import asyncio
from datetime import datetime, timedelta

import pytest

from models import clock
from models import store as collections
from models.hits import HitIn
from models.snapshots import TransactionIdResult
from models.store import StoreUnavailable
from resolvers import collection, report_suites, visitors
from tests.conftest import make_company
from tests.helpers import RSID, at, collect, moment, query, values
from tests.queries import HITS, TRANSACTION, TRANSACTIONS, VISITOR

pytestmark = pytest.mark.usefixtures("today")


async def transaction(execute, company, transaction_id: str) -> dict | None:
    result = await execute(TRANSACTION, company.reader, rsid=RSID, id=transaction_id)
    assert result.errors is None
    return result.data["reportSuite"]["transaction"]


async def test_a_lead_form_hit_snapshots_the_state_without_metrics(execute, company, suite):
    payload = await collect(execute, company.uploader, [
        {"visitorId": "v-1", "timestamp": at(0, "10:00"), "pageName": "home", "trackingCode": "spring-sale",
         "evars": [{"number": 1, "value": "email"}]},
        {"visitorId": "v-1", "timestamp": at(0, "10:05"), "pageName": "lead-form",
         "evars": [{"number": 2, "value": "sofa"}], "events": [{"number": 1, "value": 1}], "transactionId": "lead_100"},
    ])  # fmt: skip

    assert payload["outcomes"][1]["transactionIds"] == [{"transactionId": "lead_100", "result": "SNAPSHOT_MADE"}]
    lead = await transaction(execute, company, "lead_100")
    assert values(lead["snapshot"]) == {"evar1": "email", "evar2": "sofa", "trackingCode": "spring-sale"}
    assert lead["visitNumber"] == 1
    assert lead["visitor"] == {"visitorId": "v-1"}
    assert lead["status"] == "UNLINKED"
    assert datetime.fromisoformat(lead["expiresAt"]) == datetime.fromisoformat(at(0, "10:05")) + timedelta(days=90)


async def test_a_visit_evar_is_in_a_later_snapshot_of_its_visit_and_gone_in_the_next_visit(execute, company, suite):
    await collect(
        execute,
        company.uploader,
        [
            {"visitorId": "v-2", "timestamp": at(0, "10:00"), "evars": [{"number": 1, "value": "email"}]},
            {"visitorId": "v-2", "timestamp": at(0, "10:20"), "transactionId": "lead_200"},
            {"visitorId": "v-2", "timestamp": at(0, "11:00"), "pageName": "home"},  # 40 min later: a new visit
        ],
    )

    assert values((await transaction(execute, company, "lead_200"))["snapshot"]) == {"evar1": "email"}
    visitor = (await query(execute, company.reader, VISITOR, rsid=RSID, visitorId="v-2"))["reportSuite"]["visitor"]
    assert visitor["visitCount"] == 2
    assert "evar1" not in values(visitor["profile"])
    hits = await query(execute, company.reader, HITS, rsid=RSID, visitorId="v-2", first=1)
    latest = hits["reportSuite"]["visitor"]["hits"]["edges"][0]["node"]
    assert latest["visitNumber"] == 2
    assert values(latest["values"]) == {"pageName": "home"}


async def test_only_the_first_occurrence_of_an_id_makes_a_snapshot(execute, company, suite):
    payload = await collect(
        execute,
        company.uploader,
        [
            {"visitorId": "v-3", "timestamp": at(1, "10:00"), "evars": [{"number": 1, "value": "a"}], "transactionId": "t-2"},
            {"visitorId": "v-3", "timestamp": at(1, "10:20"), "evars": [{"number": 1, "value": "b"}], "transactionId": "t-2"},
        ],
    )

    assert [o["transactionIds"][0]["result"] for o in payload["outcomes"]] == ["SNAPSHOT_MADE", "ALREADY_RECORDED"]
    assert payload["collectedCount"] == 2
    assert values((await transaction(execute, company, "t-2"))["snapshot"]) == {"evar1": "a"}


async def test_several_ids_on_one_hit_make_snapshots_of_the_same_state(execute, company, suite):
    payload = await collect(
        execute,
        company.uploader,
        [{"visitorId": "v-4", "timestamp": at(2, "09:00"), "evars": [{"number": 5, "value": "x"}], "transactionId": "call_1,lead_1"}],
    )

    assert sorted(s["transactionId"] for s in payload["snapshots"]) == ["call_1", "lead_1"]
    call, lead = await transaction(execute, company, "call_1"), await transaction(execute, company, "lead_1")
    assert call["snapshot"] == lead["snapshot"] == [{"dimension": "evar5", "value": "x"}]


async def test_recording_off_makes_no_snapshot_and_existing_ones_stay(execute, company, suite, store):
    await collect(execute, company.uploader, [{"visitorId": "v-5", "timestamp": at(3, "09:00"), "transactionId": "t-0"}])
    await report_suites.set_recording(store, company.admin, RSID, False)

    payload = await collect(execute, company.uploader, [{"visitorId": "v-5", "timestamp": at(3, "09:10"), "transactionId": "t-1"}])

    assert payload["outcomes"][0]["collected"] is True
    assert payload["outcomes"][0]["transactionIds"] == [{"transactionId": "t-1", "result": "RECORDING_OFF"}]
    assert payload["snapshots"] == []
    assert await transaction(execute, company, "t-1") is None
    assert (await transaction(execute, company, "t-0"))["status"] == "UNLINKED"


async def test_a_snapshot_past_its_window_is_expired_before_the_ttl_monitor_removes_it(execute, company, suite, today, store):
    await collect(
        execute,
        company.uploader,
        [{"visitorId": "v-6", "timestamp": at(0, "09:00"), "evars": [{"number": 1, "value": "old"}], "transactionId": "t-3"}],
    )
    today.now = moment(90, "12:00")  # hours past its 90 days

    assert (await transaction(execute, company, "t-3"))["status"] == "EXPIRED"
    unlinked = await query(execute, company.reader, TRANSACTIONS, rsid=RSID, first=20, status="UNLINKED")
    assert unlinked["reportSuite"]["transactions"]["edges"] == []

    # The id is free again: a new occurrence records a fresh snapshot in place of the expired one.
    payload = await collect(
        execute,
        company.uploader,
        [{"visitorId": "v-7", "timestamp": at(90, "11:00"), "evars": [{"number": 1, "value": "new"}], "transactionId": "t-3"}],
    )
    assert payload["outcomes"][0]["transactionIds"][0]["result"] == "SNAPSHOT_MADE"
    renewed = await transaction(execute, company, "t-3")
    assert (renewed["status"], renewed["visitor"], values(renewed["snapshot"])) == ("UNLINKED", {"visitorId": "v-7"}, {"evar1": "new"})
    assert await store.count(collections.SNAPSHOTS, {"transactionId": "t-3"}) == 1


async def test_a_hit_already_older_than_the_window_makes_no_snapshot(execute, company, suite):
    payload = await collect(execute, company.uploader, [{"visitorId": "v-8", "timestamp": at(-90, "09:00"), "transactionId": "t-old"}])

    assert payload["outcomes"][0]["collected"] is True
    assert payload["outcomes"][0]["transactionIds"][0]["result"] == "EXPIRED"
    assert await transaction(execute, company, "t-old") is None


@pytest.mark.parametrize("placeholder", ["0", "NULL", "", "  "])
async def test_a_placeholder_visitor_id_is_refused_and_the_rest_collected(execute, company, suite, placeholder):
    payload = await collect(
        execute,
        company.uploader,
        [
            {"visitorId": placeholder, "timestamp": at(4, "09:00"), "transactionId": "t-9"},
            {"visitorId": "v-9", "timestamp": at(4, "09:00")},
        ],
    )

    refused, collected = payload["outcomes"]
    assert refused["collected"] is False
    assert refused["errors"][0]["field"] == "hits.0.visitorId"
    assert refused["errors"][0]["code"] == "PLACEHOLDER_ID"
    assert refused["transactionIds"] == []
    assert collected["collected"] is True
    assert (payload["collectedCount"], payload["refusedCount"], payload["snapshots"]) == (1, 1, [])


def interleave(store, monkeypatch) -> None:
    """Make every store call yield to the event loop first, as a network round trip does,
    so that concurrent calls interleave on the embedded store too."""
    for name in ("find_one", "find_many", "insert_many", "replace_many_versioned"):
        original = getattr(store, name)

        async def yielding(*args, _original=original, **kwargs):
            await asyncio.sleep(0)
            return await _original(*args, **kwargs)

        monkeypatch.setattr(store, name, yielding)


async def race_setup(any_store, monkeypatch):
    company = await make_company(any_store)
    await report_suites.create(any_store, company.admin, "race", "Race", time_zone="America/New_York")
    await report_suites.set_recording(any_store, company.admin, "race", True)
    interleave(any_store, monkeypatch)
    return company


def hit(visitor: str, day: int, time: str, evar: str, transaction_id: str = "T-1") -> list[HitIn]:
    return [HitIn(visitor, at(day, time), evars=((1, evar),), transaction_id=transaction_id)]


async def test_concurrent_calls_with_one_id_make_one_snapshot_from_the_hit_recorded_first(any_store, monkeypatch):
    company = await race_setup(any_store, monkeypatch)

    results = await asyncio.gather(
        collection.collect_hits(any_store, company.uploader, "race", hit("a", 0, "10:00", "first")),
        collection.collect_hits(any_store, company.uploader, "race", hit("b", 0, "10:20", "second")),
    )

    snapshots = await any_store.find_many(collections.SNAPSHOTS, {"rsid": "race", "transactionId": "T-1"})
    assert len(snapshots) == 1
    winners = [r for r in results if r.outcomes[0].transaction_ids == [("T-1", TransactionIdResult.SNAPSHOT_MADE)]]
    losers = [r for r in results if r.outcomes[0].transaction_ids == [("T-1", TransactionIdResult.ALREADY_RECORDED)]]
    assert (len(winners), len(losers)) == (1, 1)
    assert [s.visitor_id for s in winners[0].snapshots] == [snapshots[0]["visitorId"]]
    assert losers[0].outcomes[0].collected and losers[0].snapshots == []


async def test_a_recorded_snapshot_never_changes_when_an_earlier_hit_arrives_late(any_store, monkeypatch):
    company = await race_setup(any_store, monkeypatch)
    await collection.collect_hits(any_store, company.uploader, "race", hit("b", 0, "10:20", "second"))

    late = await collection.collect_hits(any_store, company.uploader, "race", hit("a", 0, "10:00", "first"))

    assert late.outcomes[0].collected
    assert late.outcomes[0].transaction_ids == [("T-1", TransactionIdResult.ALREADY_RECORDED)]
    (snapshot,) = await any_store.find_many(collections.SNAPSHOTS, {"rsid": "race"})
    assert (snapshot["visitorId"], snapshot["values"]) == ("b", {"evar1": "second"})
    assert isinstance(snapshot["recordedAt"], datetime)


async def test_concurrent_calls_for_one_visitor_lose_no_hit(any_store, monkeypatch):
    company = await race_setup(any_store, monkeypatch)
    calls = [
        collection.collect_hits(any_store, company.uploader, "race", hit("same", 0, f"10:{minute:02d}", str(minute), f"T-{minute}"))
        for minute in range(0, 50, 10)
    ]

    results = await asyncio.gather(*calls)

    collected = [r.outcomes[0] for r in results if r.outcomes[0].collected]
    refused = [r.outcomes[0] for r in results if not r.outcomes[0].collected]
    assert all(o.problems[0].code == "OUT_OF_ORDER" for o in refused)
    state = await any_store.find_one(collections.VISITORS, {"_id": "race|same"})
    hits = await any_store.find_many(collections.HITS, {"rsid": "race", "visitorId": "same"})
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
    state = await any_store.find_one(collections.VISITORS, {"_id": "race|v"})
    hits = await any_store.find_many(collections.HITS, {"rsid": "race", "visitorId": "v"})
    snapshots = await any_store.find_many(collections.SNAPSHOTS, {"rsid": "race"})
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


async def test_a_call_sent_again_counts_nothing_twice(any_store, monkeypatch):
    company = await race_setup(any_store, monkeypatch)
    first = await collection.collect_hits(any_store, company.uploader, "race", three_hits())

    again = await collection.collect_hits(any_store, company.uploader, "race", three_hits())

    assert [o.already_collected for o in first.outcomes] == [False] * 3
    assert [(o.collected, o.already_collected) for o in again.outcomes] == [(True, True)] * 3
    assert [o.visit_number for o in again.outcomes] == [1, 1, 1]
    assert again.outcomes[1].transaction_ids == [("lead_1", TransactionIdResult.SNAPSHOT_MADE)]
    assert await stored_counts(any_store) == (3, 3, 1)


async def test_a_failure_before_the_visitor_is_written_is_mended_by_sending_again(any_store, monkeypatch):
    company = await race_setup(any_store, monkeypatch)
    fail_once(monkeypatch, any_store, "replace_many_versioned", collections.VISITORS)
    with pytest.raises(StoreUnavailable):
        await collection.collect_hits(any_store, company.uploader, "race", three_hits())
    assert (await stored_counts(any_store))[0] == 0  # no state covers the hits written

    again = await collection.collect_hits(any_store, company.uploader, "race", three_hits())

    assert [(o.collected, o.already_collected) for o in again.outcomes] == [(True, False)] * 3
    assert await stored_counts(any_store) == (3, 3, 1)


async def test_a_failure_before_the_snapshots_is_mended_by_sending_again(any_store, monkeypatch):
    company = await race_setup(any_store, monkeypatch)
    fail_once(monkeypatch, any_store, "insert_many", collections.SNAPSHOTS)
    with pytest.raises(StoreUnavailable):
        await collection.collect_hits(any_store, company.uploader, "race", three_hits())
    assert await stored_counts(any_store) == (3, 3, 0)

    again = await collection.collect_hits(any_store, company.uploader, "race", three_hits())

    assert all(o.already_collected for o in again.outcomes)
    assert again.outcomes[1].transaction_ids == [("lead_1", TransactionIdResult.SNAPSHOT_MADE)]
    assert await stored_counts(any_store) == (3, 3, 1)


async def test_a_failure_after_the_visitor_is_written_loses_no_hit(any_store, monkeypatch):
    company = await race_setup(any_store, monkeypatch)
    fail_once(monkeypatch, any_store, "insert_many", collections.HITS)
    with pytest.raises(StoreUnavailable):
        await collection.collect_hits(any_store, company.uploader, "race", three_hits())
    assert await stored_counts(any_store) == (3, 0, 0)  # counted by the state, not stored yet

    later = await collection.collect_hits(any_store, company.uploader, "race", [HitIn("v", at(0, "11:00"), evars=((2, "other"),))])
    again = await collection.collect_hits(any_store, company.uploader, "race", three_hits())

    assert later.outcomes[0].collected and later.outcomes[0].visit_number == 2
    assert all(o.already_collected for o in again.outcomes)
    assert again.outcomes[1].transaction_ids == [("lead_1", TransactionIdResult.SNAPSHOT_MADE)]
    assert await stored_counts(any_store) == (4, 4, 1)
    state = await visitors.get_visitor(any_store, company.reader, "race", "v")
    listed, _ = await visitors.page_hits(any_store, company.reader, state, None, 10)
    assert [h.seq for h in listed] == [4, 3, 2, 1] and state.unwritten == ()


async def test_a_call_of_a_thousand_hits_for_one_visitor_sent_again_counts_nothing_twice(any_store, monkeypatch):
    company = await race_setup(any_store, monkeypatch)
    hits = [HitIn("v", at(0, "10:00"), evars=((1, f"value {n}"),)) for n in range(1000)]

    await collection.collect_hits(any_store, company.uploader, "race", hits)
    again = await collection.collect_hits(any_store, company.uploader, "race", hits)

    assert all(o.already_collected for o in again.outcomes)
    assert (await stored_counts(any_store))[:2] == (1000, 1000)


async def test_the_same_hit_twice_in_a_call_sent_again_gets_the_same_answers(any_store, monkeypatch):
    company = await race_setup(any_store, monkeypatch)
    twice = [HitIn("v", at(0, "10:00"), transaction_id="t-9")] * 2

    first = await collection.collect_hits(any_store, company.uploader, "race", twice)
    again = await collection.collect_hits(any_store, company.uploader, "race", twice)

    def answers(result):
        return [(o.visit_number, o.transaction_ids) for o in result.outcomes]

    assert (
        answers(again)
        == answers(first)
        == [(1, [("t-9", TransactionIdResult.SNAPSHOT_MADE)]), (1, [("t-9", TransactionIdResult.ALREADY_RECORDED)])]
    )
    assert first.outcomes[1].already_collected and (await stored_counts(any_store))[:2] == (1, 1)


async def test_a_resent_hit_lists_its_expired_snapshot_once(any_store, monkeypatch):
    company = await race_setup(any_store, monkeypatch)
    await report_suites.update(any_store, company.admin, "race", transaction_id_window_days=30)
    await collection.collect_hits(any_store, company.uploader, "race", hit("v", 0, "10:00", "a"))
    monkeypatch.setattr(clock, "now", lambda: moment(40, "12:00"))
    await report_suites.update(any_store, company.admin, "race", transaction_id_window_days=90)

    again = await collection.collect_hits(any_store, company.uploader, "race", hit("v", 0, "10:00", "a"))

    assert [s.transaction_id for s in again.snapshots] == ["T-1"]


async def test_the_same_call_sent_twice_at_once_counts_each_hit_once(any_store, monkeypatch):
    company = await race_setup(any_store, monkeypatch)

    results = await asyncio.gather(*(collection.collect_hits(any_store, company.uploader, "race", three_hits()) for _ in range(3)))

    assert all(o.collected for r in results for o in r.outcomes)
    assert sorted(sum(o.already_collected for o in r.outcomes) for r in results) == [0, 3, 3]
    listed, _ = await visitors.page_hits(
        any_store, company.reader, await visitors.get_visitor(any_store, company.reader, "race", "v"), None, 10
    )
    assert [h.seq for h in listed] == [3, 2, 1]
    assert await stored_counts(any_store) == (3, 3, 1)


async def test_a_visitors_hits_too_big_for_one_state_document_are_stored_in_rounds(any_store, monkeypatch):
    company = await race_setup(any_store, monkeypatch)
    monkeypatch.setattr(collection, "UNWRITTEN_BYTES", 2000)  # about three of these hits a round
    hits = [HitIn("v", at(0, f"10:{n:02d}"), evars=((1, "x" * 200), (2, str(n)))) for n in range(10)]

    result = await collection.collect_hits(any_store, company.uploader, "race", hits)

    assert all(o.collected for o in result.outcomes)
    assert (await stored_counts(any_store))[:2] == (10, 10)
