"""Scenario tests: a dashboard's query costs the same number of store round trips however
long its lists are (graph, DataLoaders, resolvers and the store's batched pages)."""

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from models import clock
from models.data_sources import CATALOGUE, SourceType
from models.hits import HitIn
from resolvers import collection, data_sources, processing, report_suites, uploads
from tests.conftest import make_company
from tests.helpers import moment, query

DASHBOARD = """
query($sources: Int!, $jobs: Int!, $visitors: Int!, $items: Int!) {
  reportSuite(rsid: "dash") {
    name timeZone
    dataSources(first: $sources) { edges { node { name type
      jobs(first: $jobs) { edges { node { name status rowCount linkedByTransaction summaryRows errorCount dataSource { name } } } }
    } } }
    visitors(first: $visitors) { edges { node { visitorId visitCount %s } } }
  }
}"""
# What the dashboard shows of each visitor: its hits, or its activity (hits and linked rows)
# and its transactions with their linked rows.
HITS = "hits(first: $items) { edges { node { timestamp values { dimension value } } } }"
ACTIVITY = """
  activity(first: $items) { edges { node { source hit { timestamp } offlineRow { line job { name } dataSource { name } } } } }
  transactions(first: 1) { edges { node { transactionId linkedRows(first: $items) { edges { node { line job { status } } } } } } }"""


async def _dashboard(store, scale: int):
    """A report suite with 2 x `scale` data sources of 10 x `scale` jobs each (one row
    each, linked to a transaction), and 20 x `scale` visitors of 5 x `scale` hits each."""
    company = await make_company(store)
    admin = company.admin
    await report_suites.create(store, admin, "dash", "Dashboard", time_zone="America/New_York")
    await report_suites.set_recording(store, admin, "dash", True)
    visitors, hits_each = 20 * scale, 5 * scale
    hits = [
        HitIn(f"v-{v:03d}", moment(1, f"10:{h:02d}").isoformat(), evars=((1, "email"),), transaction_id=None if h else f"t-v-{v:03d}")
        for v in range(visitors)
        for h in range(hits_each)
    ]
    for start in range(0, len(hits), 1000):
        await collection.collect_hits(store, admin, "dash", hits[start : start + 1000])
    entry = CATALOGUE[SourceType.GENERIC_TRANSACTION_ID]
    for s in range(2 * scale):
        source = await data_sources.create(
            store, admin, "dash", f"Deals {s}", entry.category, entry.type, [("Evar 3", None), ("transactionID", None)], [("Event 5", None)]
        )
        for j in range(10 * scale):
            day = (moment(2, "12:00") - timedelta(hours=5)).strftime("%m/%d/%Y")
            text = f"Date\tEvar 3\tEvent 5\ttransactionID\n{day}\twon\t1\tt-v-{(s * 10 * scale + j) % visitors:03d}\n"
            await uploads.upload_file(store, admin, source.id, f"deals-{j:03d}.txt", _pieces(text))
    worker = processing.Worker(store)
    while await worker.run_once():
        pass
    return company


async def _pieces(text: str) -> AsyncIterator[bytes]:
    yield text.encode()


async def _round_trips(store, execute, caller, document: str, **variables) -> int:
    before = store.round_trips
    await query(execute, caller, document, **variables)
    return store.round_trips - before


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: moment(9, "12:00"))


def _sizes(scale: int) -> dict[str, int]:
    # The Web beacon and 2 data sources of 10 jobs; 20 visitors of 5 hits and a linked row.
    return {"sources": 1 + 2 * scale, "jobs": 10 * scale, "visitors": 20 * scale, "items": 6 * scale}


async def _counts(store, execute, document: str) -> tuple[list[int], list[int]]:
    """Round trips of the dashboard's query, and the objects it lists, at scale 1 and 2."""
    trips, listed = [], []
    for scale in (1, 2):
        company = await _dashboard(store, scale)
        listed.append(_listed(await query(execute, company.reader, document, **_sizes(scale))))
        trips.append(await _round_trips(store, execute, company.reader, document, **_sizes(scale)))
        await _forget(store)
    return trips, listed


async def test_a_dashboard_costs_the_same_round_trips_when_every_list_doubles(store, execute):
    trips, listed = await _counts(store, execute, DASHBOARD % ACTIVITY)

    assert listed[1] > 1.8 * listed[0]  # every list did double
    # The report suite; the data sources (the suite, then the page); the jobs of all of them
    # and their late-linked rows; the data sources of all the jobs and rows; the visitors; the
    # activity, the transactions, the linked rows and the rows' jobs of all of them: one round
    # trip each.
    assert trips[0] == trips[1] <= 11, trips


async def test_a_dashboard_with_each_visitors_hits_costs_the_same_round_trips_when_every_list_doubles(store, execute):
    trips, listed = await _counts(store, execute, DASHBOARD % HITS)

    assert listed[1] > 1.8 * listed[0]
    assert trips[0] == trips[1]


def _listed(data: dict) -> int:
    """How many objects an answer lists, nested lists included."""
    if isinstance(data, dict):
        return sum(_listed(v) for v in data.values()) + ("node" in data)
    if isinstance(data, list):
        return sum(_listed(v) for v in data)
    return 0


async def _forget(store) -> None:
    for name in ("companies", "api_keys", "report_suites", "data_sources", "visitors", "hits", "snapshots", "jobs", "job_chunks", "rows"):
        await store.delete_many(name, {})
