"""Scenario tests: the Transaction ID rules of DOMAIN.md and EXAMPLES.md (examples 1 and
3), from collectHits to the Transaction and Visitor read back. They cross the graph
(collection, visitors), the use-cases (collection, snapshots), the rules (profiles,
snapshots) and the store. The same rules when calls race or are sent again are in
test_resolvers_collection.py."""

from datetime import datetime, timedelta

import pytest

from models import store as collections
from resolvers import report_suites
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
