"""graph/collection.py: the collectHits mutation, and the rules every call follows: at
most 1,000 hits, each hit answered by its index, one bad hit stopping no other, a
visitor's hits in time order; the report suite's settings; who may collect where. The
Transaction ID rules are scenario tests in test_scenario_transaction_ids.py."""

from datetime import UTC, timedelta

import pytest

from models import fields
from models import store as collections
from models.hits import MAX_IDS_PER_HIT
from models.report_suites import Allocation, EvarSetting, Expiration
from resolvers import report_suites
from resolvers.collection import MAX_HITS_PER_CALL
from tests.helpers import RSID, at, codes, collect, executor, hit, moment, parsed, query, stored, values
from tests.queries import COLLECT, HITS, TRANSACTION, VISITOR

pytestmark = pytest.mark.usefixtures("today")


# --- per-call rules: at most 1,000 hits, one bad hit stops no other -----------------------


async def test_more_than_1000_hits_in_a_call_is_refused_and_nothing_is_stored(store, execute, company, suite):
    hits = [hit(f"v-{n % 7}", 0, "10:00") for n in range(1001)]

    # Refused before the hits are converted (graph/extensions/max_input_size.py).
    result = await execute(COLLECT, company.uploader, input={"rsid": RSID, "hits": hits})

    assert result.data is None
    assert [(e.extensions["code"], e.extensions["field"]) for e in result.errors] == [("TOO_MANY", "input.hits")]
    assert "1,001" in result.errors[0].message and "at most 1,000" in result.errors[0].message
    assert await stored(store, collections.HITS) == []
    assert await stored(store, collections.VISITORS) == []


async def test_1000_hits_in_a_call_are_collected(store, execute, company, suite):
    hits = [hit(f"v-{n % 10}", 0, f"{10 + n // 600:02}:{n // 10 % 60:02}") for n in range(1000)]

    payload = await collect(execute, company.uploader, hits)

    assert payload["userErrors"] == []
    assert payload["collectedCount"] == 1000
    assert len(await stored(store, collections.HITS)) == 1000
    assert len(await stored(store, collections.VISITORS)) == 10


async def test_one_bad_hit_never_stops_the_others_and_outcomes_follow_the_input_order(store, execute, company, suite):
    payload = await collect(
        execute,
        company.uploader,
        [
            hit("v-1", 0, "10:00", evars=[{"number": 1, "value": "email"}]),
            hit("NULL", 0, "10:01"),
            hit("v-2", 9, "12:06"),  # 6 minutes ahead of the clock
            hit("v-1", 0, "10:05", transactionId="lead_100"),
            {"visitorId": "v-3", "timestamp": "2026-03-02T10:00:00"},
            hit("v-3", 0, "10:00", evars=[{"number": 251, "value": "x"}], events=[{"number": 0}]),
            hit("v-3", 0, "10:01", transactionId="x" * 101),
            hit("v-4", 0, "11:00"),
        ],
    )

    outcomes = payload["outcomes"]
    assert [o["index"] for o in outcomes] == list(range(8))
    assert [o["collected"] for o in outcomes] == [True, False, False, True, False, False, False, True]
    errors = {o["index"]: sorted((e["field"], e["code"]) for e in o["errors"]) for o in outcomes if o["errors"]}
    assert errors == {
        1: [("hits.1.visitorId", "PLACEHOLDER_ID")],
        2: [("hits.2.timestamp", "FUTURE_TIMESTAMP")],
        4: [("hits.4.timestamp", "INVALID_TIMESTAMP")],
        5: [("hits.5.evars", "INVALID"), ("hits.5.events", "INVALID")],
        6: [("hits.6.transactionId", "TOO_LONG")],
    }
    assert [o["visitNumber"] for o in outcomes] == [1, None, None, 1, None, None, None, 1]
    assert outcomes[3]["transactionIds"] == [{"transactionId": "lead_100", "result": "SNAPSHOT_MADE"}]
    assert (payload["collectedCount"], payload["refusedCount"], payload["userErrors"]) == (3, 5, [])
    assert sorted(h["visitorId"] for h in await stored(store, collections.HITS)) == ["v-1", "v-1", "v-4"]
    assert sorted(v["visitorId"] for v in await stored(store, collections.VISITORS)) == ["v-1", "v-4"]
    tx = (await query(execute, company.reader, TRANSACTION, rsid=RSID, id="lead_100"))["reportSuite"]["transaction"]
    assert values(tx["snapshot"]) == {"evar1": "email"}


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


async def test_a_hit_with_a_value_that_is_not_valid_unicode_does_not_stop_the_call(store, execute, company, suite):
    # JSON may carry a lone surrogate ("\ud800"); it has no UTF-8 form and cannot be stored.
    payload = await collect(execute, company.uploader, [hit("v-\ud800", 0, "10:00"), hit("v-1", 0, "10:00")])

    assert [o["collected"] for o in payload["outcomes"]] == [False, True]
    assert [e["field"] for e in payload["outcomes"][0]["errors"]] == ["hits.0.visitorId"]
    assert [h["visitorId"] for h in await stored(store, collections.HITS)] == ["v-1"]


async def test_a_hit_dated_0001_01_01_does_not_break_the_call_or_half_store_it(store, execute, company, suite):
    # .NET's DateTime.MinValue, as a client sends an unset date: midnight UTC on 0001-01-01
    # is still the year 0 in the suite's New York time.
    result = await execute(
        COLLECT,
        company.uploader,
        input={"rsid": RSID, "hits": [{"visitorId": "v-0", "timestamp": "0001-01-01T00:00:00Z"}, hit("v-1", 0, "10:00")]},
    )

    # nothing half-stored: every visitor stored has exactly the hits its history counts
    hits = await stored(store, collections.HITS)
    seqs = {v["visitorId"]: v["seq"] for v in await stored(store, collections.VISITORS)}
    assert seqs == {visitor: sum(h["visitorId"] == visitor for h in hits) for visitor in seqs}
    # and the bad hit stopped no other
    assert result.errors is None, result.errors
    outcomes = result.data["collectHits"]["outcomes"]
    assert outcomes[1]["collected"] is True
    assert outcomes[0]["collected"] or [e["field"] for e in outcomes[0]["errors"]] == ["hits.0.timestamp"]
    assert "v-1" in {h["visitorId"] for h in hits}


async def test_collecting_into_an_unknown_report_suite_is_a_user_error(store, execute, company, suite):
    payload = await collect(execute, company.uploader, [hit("v-1", 0, "10:00")], rsid="nope")

    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("rsid", "NOT_FOUND")]
    assert await stored(store, collections.HITS) == []


# --- per-call rules: a visitor's hits in time order ---------------------------------------


async def test_a_hit_older_than_the_visitors_latest_is_refused_out_of_order_and_the_rest_collected(store, execute, company, suite):
    await collect(execute, company.uploader, [hit("v-1", 0, "10:05", pageName="first")])

    payload = await collect(
        execute,
        company.uploader,
        [
            hit("v-1", 0, "10:00", pageName="late", transactionId="t-late"),
            hit("v-1", 0, "10:05", pageName="same-moment"),
            hit("v-2", 0, "09:00", pageName="other-visitor"),
            hit("v-1", 0, "10:20", pageName="later"),
        ],
    )

    outcomes = payload["outcomes"]
    assert [o["collected"] for o in outcomes] == [False, True, True, True]
    assert [(e["field"], e["code"]) for e in outcomes[0]["errors"]] == [("hits.0.timestamp", "OUT_OF_ORDER")]
    assert outcomes[0]["transactionIds"] == [] and outcomes[0]["visitNumber"] is None
    assert (payload["collectedCount"], payload["refusedCount"]) == (3, 1)
    pages = sorted(h["values"].get("pageName") for h in await stored(store, collections.HITS))
    assert pages == ["first", "later", "other-visitor", "same-moment"]
    assert await stored(store, collections.SNAPSHOTS) == []  # the refused hit made no snapshot


async def test_a_call_whose_only_hit_is_out_of_order_leaves_the_visitor_as_it_was(store, execute, company, suite):
    await collect(execute, company.uploader, [hit("v-1", 0, "10:05", evars=[{"number": 1, "value": "a"}])])
    before = await store.find_many(collections.VISITORS, {})

    payload = await collect(execute, company.uploader, [hit("v-1", 0, "10:04", evars=[{"number": 1, "value": "b"}])])

    assert (payload["collectedCount"], payload["refusedCount"]) == (0, 1)
    assert [e["code"] for e in payload["outcomes"][0]["errors"]] == ["OUT_OF_ORDER"]
    assert await store.find_many(collections.VISITORS, {}) == before
    assert len(await stored(store, collections.HITS)) == 1


async def test_within_one_call_a_visitors_hit_older_than_one_before_it_is_out_of_order(execute, company, suite):
    payload = await collect(
        execute,
        company.uploader,
        [hit("v-1", 0, "10:10"), hit("v-1", 0, "10:00"), hit("v-1", 0, "10:15")],
    )

    assert [o["collected"] for o in payload["outcomes"]] == [True, False, True]
    assert [e["code"] for e in payload["outcomes"][1]["errors"]] == ["OUT_OF_ORDER"]
    visitor = (await query(execute, company.reader, VISITOR, rsid=RSID, visitorId="v-1"))["reportSuite"]["visitor"]
    assert parsed(visitor["lastSeen"]) == moment(0, "10:15")


@pytest.mark.wire
async def test_an_out_of_order_hit_is_refused_on_the_stored_state(any_store, any_company):
    execute = executor(any_store)
    await collect(execute, any_company.uploader, [hit("cust-42", 1, "09:00")])

    payload = await collect(execute, any_company.uploader, [hit("cust-42", 1, "08:59", transactionId="t-1"), hit("cust-42", 1, "09:01")])

    assert [[e["code"] for e in o["errors"]] for o in payload["outcomes"]] == [["OUT_OF_ORDER"], []]
    assert await any_store.find_many(collections.SNAPSHOTS, {}) == []
    assert sorted(d["seq"] for d in await any_store.find_many(collections.HITS, {})) == [1, 2]


async def test_times_are_kept_to_the_millisecond_so_order_is_judged_as_stored(execute, company, suite):
    base = moment(0, "10:00").astimezone(UTC)
    first = await collect(execute, company.uploader, [{"visitorId": "v-1", "timestamp": base.replace(microsecond=900).isoformat()}])
    later_but_earlier = await collect(
        execute, company.uploader, [{"visitorId": "v-1", "timestamp": base.replace(microsecond=500).isoformat()}]
    )

    assert first["outcomes"][0]["collected"] and later_but_earlier["outcomes"][0]["collected"]  # both are 10:00:00.000
    millis = await collect(execute, company.uploader, [{"visitorId": "v-1", "timestamp": (base - timedelta(milliseconds=1)).isoformat()}])
    assert millis["outcomes"][0]["errors"][0]["code"] == "OUT_OF_ORDER"


# --- the report suite's settings ----------------------------------------------------------


async def test_collection_follows_the_report_suites_stored_settings(store, execute, company):
    await report_suites.create(store, company.admin, "shop", "Shop", visit_timeout_minutes=5, transaction_id_window_days=30)
    await report_suites.set_recording(store, company.admin, "shop", True)
    await report_suites.update(
        store,
        company.admin,
        "shop",
        [EvarSetting(3, Expiration.DAYS, days=2, allocation=Allocation.ORIGINAL), EvarSetting(4, Expiration.HIT)],
    )

    payload = await collect(
        execute,
        company.uploader,
        [
            hit("v-1", 0, "10:00", evars=[{"number": 3, "value": "first"}, {"number": 4, "value": "button"}]),
            hit("v-1", 0, "10:04", evars=[{"number": 3, "value": "second"}]),  # 4 min: same visit; original holds
            hit("v-1", 1, "10:00", evars=[{"number": 3, "value": "third"}]),  # next visit, inside 2 days
            hit("v-1", 2, "10:01", evars=[{"number": 3, "value": "fourth"}], transactionId="t-1"),  # past 2 days
        ],
        rsid="shop",
    )

    assert [o["visitNumber"] for o in payload["outcomes"]] == [1, 1, 2, 3]
    edges = (await query(execute, company.reader, HITS, rsid="shop", visitorId="v-1", first=10))["reportSuite"]["visitor"]["hits"]["edges"]
    assert [values(e["node"]["values"]) for e in reversed(edges)] == [
        {"evar3": "first", "evar4": "button"},
        {"evar3": "first"},
        {"evar3": "first"},
        {"evar3": "fourth"},
    ]
    tx = (await query(execute, company.reader, TRANSACTION, rsid="shop", id="t-1"))["reportSuite"]["transaction"]
    assert parsed(tx["expiresAt"]) - parsed(tx["recordedAt"]) == timedelta(days=30)


# --- roles and tenancy --------------------------------------------------------------------


async def test_a_reader_may_not_collect(store, execute, company, suite):
    result = await execute(COLLECT, company.reader, input={"rsid": RSID, "hits": [hit("v-1", 0, "10:00")]})

    assert codes(result) == ["FORBIDDEN"]
    assert result.data is None
    assert await stored(store, collections.HITS) == []
    assert await stored(store, collections.VISITORS) == []


async def test_no_key_may_not_collect_or_read(store, execute, company, suite):
    result = await execute(COLLECT, None, input={"rsid": RSID, "hits": [hit("v-1", 0, "10:00")]})
    assert codes(result) == ["UNAUTHENTICATED"]
    assert await stored(store, collections.HITS) == []

    await collect(execute, company.uploader, [hit("v-1", 0, "10:00")])
    read = await execute(VISITOR, None, rsid=RSID, visitorId="v-1")
    assert codes(read) == ["UNAUTHENTICATED"]


async def test_an_uploader_and_an_admin_may_collect(execute, company, suite):
    by_uploader = await collect(execute, company.uploader, [hit("v-1", 0, "10:00")])
    by_admin = await collect(execute, company.admin, [hit("v-1", 0, "10:10")])

    assert (by_uploader["collectedCount"], by_uploader["userErrors"]) == (1, [])
    assert (by_admin["collectedCount"], by_admin["userErrors"]) == (1, [])
    visitor = (await query(execute, company.reader, VISITOR, rsid=RSID, visitorId="v-1"))["reportSuite"]["visitor"]
    assert visitor["visitCount"] == 1


async def test_another_company_cannot_collect_into_the_report_suite(store, execute, company, other_company, suite):
    payload = await collect(execute, other_company.uploader, [hit("v-1", 0, "10:00", transactionId="t-1")])

    assert [e["code"] for e in payload["userErrors"]] == ["NOT_FOUND"]
    assert payload["outcomes"] == []
    assert await stored(store, collections.VISITORS) == []
    assert await stored(store, collections.HITS) == []
    assert await stored(store, collections.SNAPSHOTS) == []


# --- the hit input follows the field catalogue ------------------------------------------

INPUT_FIELDS = """
query($name: String!) {
  __type(name: $name) { inputFields { name description type { kind name ofType { kind name } } } }
}"""


async def input_fields(execute, name: str) -> dict[str, dict]:
    data = await query(execute, None, INPUT_FIELDS, name=name)  # introspection needs no key
    return {f["name"]: f for f in data["__type"]["inputFields"]}


async def test_the_hit_input_has_a_field_per_hit_field_of_the_catalogue_and_no_other(execute):
    hit_input = await input_fields(execute, "HitInput")

    assert set(hit_input) == {f.key for f in fields.HIT_FIELDS} | {"visitorId", "timestamp", "evars", "events", "transactionId"}
    assert {f.key: hit_input[f.key]["type"]["name"] for f in fields.HIT_METRICS} == {f.key: "Float" for f in fields.HIT_METRICS}
    assert {f.key: hit_input[f.key]["type"]["name"] for f in fields.HIT_DIMENSIONS} == {f.key: "String" for f in fields.HIT_DIMENSIONS}
    assert [hit_input[key]["type"]["kind"] for key in ("visitorId", "timestamp")] == ["NON_NULL", "NON_NULL"]


async def test_the_limits_the_inputs_describe_are_the_catalogues(execute):
    evar, event = await input_fields(execute, "EvarValueInput"), await input_fields(execute, "EventValueInput")
    hit_input, call = await input_fields(execute, "HitInput"), await input_fields(execute, "CollectHitsInput")

    assert evar["number"]["description"] == f"1 to {fields.EVARS}."
    assert event["number"]["description"] == f"1 to {fields.EVENTS}."
    assert f"At most {fields.MAX_ID_BYTES} bytes" in hit_input["visitorId"]["description"]
    assert f"One to {MAX_IDS_PER_HIT} ids" in hit_input["transactionId"]["description"]
    assert f"at most {fields.MAX_ID_BYTES} bytes in all" in hit_input["transactionId"]["description"]
    assert call["hits"]["description"] == f"At most {MAX_HITS_PER_CALL:,}."
