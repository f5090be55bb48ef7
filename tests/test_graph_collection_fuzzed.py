"""graph/collection.py, fuzzed (hypothesis): collectHits through the schema with arbitrary
input (any text, numbers out of range, non-finite values, times that are no times, the
same visitor many times, placeholders). Every answer is an outcome per hit or coded
errors, never an unexpected error; and the store is whole after it: each visitor's state
counts exactly the hits stored for it, carries none unwritten, and the new hits and
snapshots are exactly those the answer reports. Each call is sent twice, as after a lost
answer."""

import asyncio
from datetime import UTC, datetime, timedelta

from hypothesis import event, given
from hypothesis import strategies as st

from graph.context import Context
from graph.schema import schema
from models import store as collections
from models.profiles import carried_docs
from models.store import Store
from resolvers import report_suites
from tests.conftest import make_company

RSID = "shop"
COLLECT = """
mutation($input: CollectHitsInput!) {
  collectHits(input: $input) {
    collectedCount refusedCount
    outcomes { index collected alreadyCollected visitNumber errors { field code message } transactionIds { transactionId result } }
    snapshots { transactionId }
    userErrors { field code message }
  }
}"""
NOW = datetime.now(UTC)
TEXT = st.text(max_size=60)
ODD_TEXT = st.sampled_from(["", " ", "0", "NULL", "undefined", "-", "\t", "a\nb", "\x00", "\ud800", "é", "x" * 101, "y" * 260, "a,b", ",,"])


def times() -> st.SearchStrategy[str]:
    """Times as clients send them: in the last days, with or without offset, in the future,
    before 1970, or no time at all."""
    moment = st.builds(lambda minutes: NOW - timedelta(minutes=minutes), st.integers(-60 * 24, 60 * 24 * 120))
    return st.one_of(
        moment.map(lambda m: m.isoformat()),
        moment.map(lambda m: m.replace(tzinfo=None).isoformat()),
        moment.map(lambda m: m.strftime("%Y-%m-%dT%H:%M:%SZ")),
        st.sampled_from(["0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "9999-12-31T23:59:59+14:00", "2026-02-30T10:00:00Z"]),
        TEXT,
    )


HIT = st.fixed_dictionaries(
    {"visitorId": st.one_of(st.sampled_from(["v-1", "v-2", "v-3"]), ODD_TEXT, TEXT), "timestamp": times()},
    optional={
        "evars": st.lists(st.fixed_dictionaries({"number": st.integers(-2, 260), "value": st.one_of(TEXT, ODD_TEXT)}), max_size=4),
        "events": st.lists(
            st.fixed_dictionaries({"number": st.integers(-2, 1010), "value": st.floats(allow_nan=True, allow_infinity=True)}), max_size=4
        ),
        "pageName": st.one_of(TEXT, ODD_TEXT),
        "revenue": st.floats(allow_nan=True, allow_infinity=True),
        "transactionId": st.one_of(st.sampled_from(["t-1", "t-2", "t-1,t-2", "t-3, t-3"]), ODD_TEXT, TEXT),
    },
)
INPUT = st.fixed_dictionaries({"rsid": st.one_of(st.just(RSID), st.just(RSID), ODD_TEXT), "hits": st.lists(HIT, max_size=12)})


async def collect_twice(input: dict) -> None:
    store = Store.connect(None)
    try:
        await store.create_indexes()
        company = await make_company(store)
        await report_suites.create(store, company.admin, RSID, "Shop", time_zone="America/New_York")
        await report_suites.set_recording(store, company.admin, RSID, True)
        for _ in range(2):  # and sent again, as after a lost answer
            await collect_and_check(store, company, input)
    finally:
        store.close()


async def collect_and_check(store, company, input: dict) -> None:
    hits_before = len(await store.find_many(collections.HITS, {}))
    snapshots_before = {d["transactionId"] for d in await store.find_many(collections.SNAPSHOTS, {})}

    result = await schema.execute(COLLECT, variable_values={"input": input}, context_value=Context(store, company.uploader))

    for error in result.errors or ():
        code = (error.extensions or {}).get("code")
        assert code and code != "INTERNAL_SERVER_ERROR", error.formatted
    if result.data is None:  # refused as a whole, with its code (e.g. a non-finite number)
        assert result.errors
        event("refused before it ran: " + ", ".join(sorted({(e.extensions or {}).get("code", "") for e in result.errors})))
    else:
        check_payload(result.data["collectHits"], input)
        event(f"{min(result.data['collectHits']['collectedCount'], 2)}+ hits collected")
    hits = await store.find_many(collections.HITS, {})
    visitors = await store.find_many(collections.VISITORS, {})
    stored_ids = {h["_id"] for h in hits}
    for visitor in visitors:
        # A state keeps its last round's hit documents until its next write: all of them stored.
        assert {h["_id"] for h in carried_docs(visitor)} <= stored_ids, "a visitor state carries hits that are not stored"
        assert visitor["seq"] == sum(h["visitorId"] == visitor["visitorId"] for h in hits), "a visitor state counts other hits than stored"
    if result.data is not None:
        payload = result.data["collectHits"]
        new_hits = sum(o["collected"] and not o["alreadyCollected"] for o in payload["outcomes"])
        assert len(hits) - hits_before == new_hits
        # the snapshots these hits made (a call sent again names its own again): stored, and the only new ones
        snapshots = {d["transactionId"] for d in await store.find_many(collections.SNAPSHOTS, {})}
        listed = {s["transactionId"] for s in payload["snapshots"]}
        assert listed <= snapshots and snapshots - snapshots_before == listed - snapshots_before


def check_payload(payload: dict, input: dict) -> None:
    outcomes = payload["outcomes"]
    if payload["userErrors"]:  # the call as a whole: nothing collected
        assert outcomes == [] and all(e["code"] for e in payload["userErrors"])
        return
    assert [o["index"] for o in outcomes] == list(range(len(input["hits"])))
    assert payload["collectedCount"] + payload["refusedCount"] == len(outcomes)
    for outcome in outcomes:
        assert outcome["collected"] == (outcome["errors"] == [])
        assert (outcome["visitNumber"] is not None) == outcome["collected"]
        for error in outcome["errors"]:
            assert error["code"] and error["message"] and error["field"].startswith(f"hits.{outcome['index']}")


@given(input=INPUT)
def test_any_collect_hits_call_gets_outcomes_or_coded_errors_and_leaves_the_store_whole(input):
    asyncio.run(collect_twice(input))
