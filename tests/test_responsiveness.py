"""The server never freezes: /healthz is answered while a large query and a call of 1,000
hits are still running on the same event loop (shown by ordering, not by a clock)."""

import asyncio
import json
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest

from graph.app import create_app
from models import clock
from models.hits import HitIn
from resolvers import collection, report_suites

DAY_ZERO = datetime.combine(datetime.now(UTC).date() - timedelta(days=5), time(), UTC)
RSID = "shop"
NESTED = '{ reportSuite(rsid: "shop") { visitors(first: 100) { edges { node { visitorId hits(first: 10) { edges { node { id timestamp values { dimension value } } } } } } } } }'
COLLECT = (
    "mutation($input: CollectHitsInput!) { collectHits(input: $input) { collectedCount outcomes { index collected errors { code } } } }"
)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: DAY_ZERO + timedelta(days=4))


@pytest.fixture
async def loaded(store, company):
    """100 visitors with 10 hits each."""
    await report_suites.create(store, company.admin, RSID, "Shop")
    hits = [
        HitIn(f"v-{v:03d}", (DAY_ZERO + timedelta(minutes=n)).isoformat(), evars=((1, f"campaign {n}"), (2, f"product {v}")))
        for n in range(10)
        for v in range(100)
    ]
    result = await collection.collect_hits(store, company.uploader, RSID, hits)
    assert all(o.collected for o in result.outcomes)
    return company


def thousand_hits() -> bytes:
    hits = [
        {"visitorId": f"new-{n % 300}", "timestamp": (DAY_ZERO + timedelta(days=1, seconds=n)).isoformat(), "pageName": f"page {n}",
         "evars": [{"number": e, "value": f"value {n} {e}"} for e in range(1, 6)], "transactionId": f"order-{n}"}
        for n in range(1000)
    ]  # fmt: skip
    return json.dumps({"query": COLLECT, "variables": {"input": {"rsid": RSID, "hits": hits}}}).encode()


async def test_healthz_is_answered_while_a_large_query_and_a_thousand_hit_call_run(store, loaded):
    app = create_app(store)
    headers = {"Authorization": f"Bearer {loaded.admin_key}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", headers=headers) as client:
        query = asyncio.create_task(client.post("/graphql", content=json.dumps({"query": NESTED})))
        call = asyncio.create_task(client.post("/graphql", content=thousand_hits()))
        await asyncio.sleep(0)  # both have started

        health = await client.get("/healthz")

        assert health.status_code == 200
        assert not query.done() and not call.done()  # both still running when /healthz was answered
        answers = await asyncio.gather(query, call)

    visitors = answers[0].json()["data"]["reportSuite"]["visitors"]["edges"]
    assert len(visitors) == 100 and all(len(v["node"]["hits"]["edges"]) == 10 for v in visitors)
    assert answers[1].json()["data"]["collectHits"]["collectedCount"] == 1000
