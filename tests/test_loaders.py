"""The request's DataLoaders: a page of visitors gets its hits in one store read, on both
stores, with the same pages as one read per visitor would give."""

from datetime import UTC, datetime, time, timedelta

import pytest

from models import clock
from models.hits import HitIn
from resolvers import collection, report_suites, visitors
from tests.conftest import make_company

DAY_ZERO = datetime.combine(datetime.now(UTC).date() - timedelta(days=5), time(), UTC)
RSID = "shop"

NESTED = """
query($first: Int!, $hits: Int!, $after: String) {
  reportSuite(rsid: "shop") {
    visitors(first: $first) {
      edges { node { visitorId hits(first: $hits, after: $after) { edges { node { id } } pageInfo { hasNextPage } } } }
    }
  }
}"""


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: DAY_ZERO + timedelta(days=4))


async def collect(store, company, visitor_count: int, hits_each: int) -> None:
    hits = [
        HitIn(f"v-{v:03d}", (DAY_ZERO + timedelta(minutes=n)).isoformat(), evars=((1, f"x{n}"),))
        for n in range(hits_each)
        for v in range(visitor_count)
    ]
    for start in range(0, len(hits), 1000):
        result = await collection.collect_hits(store, company.uploader, RSID, hits[start : start + 1000])
        assert all(o.collected for o in result.outcomes)


@pytest.fixture
async def shop(store, company):
    await report_suites.create(store, company.admin, RSID, "Shop")
    return company


async def round_trips(store, execute, caller, **variables) -> tuple[int, dict]:
    before = store.round_trips
    result = await execute(NESTED, caller, **variables)
    assert result.errors is None
    return store.round_trips - before, result.data


async def test_the_hits_of_a_page_of_visitors_cost_one_store_read_whatever_the_page_size(store, execute, shop):
    await collect(store, shop, 40, 12)

    few, _ = await round_trips(store, execute, shop.reader, first=4, hits=10)
    many, data = await round_trips(store, execute, shop.reader, first=40, hits=10)

    assert few == many
    edges = data["reportSuite"]["visitors"]["edges"]
    assert len(edges) == 40
    assert all(len(e["node"]["hits"]["edges"]) == 10 and e["node"]["hits"]["pageInfo"]["hasNextPage"] for e in edges)


async def test_nested_pages_list_each_visitors_own_hits_newest_first(store, execute, shop):
    await collect(store, shop, 3, 5)

    _, data = await round_trips(store, execute, shop.reader, first=3, hits=2, after=None)

    for edge in data["reportSuite"]["visitors"]["edges"]:
        visitor = edge["node"]["visitorId"]
        ids = [e["node"]["id"] for e in edge["node"]["hits"]["edges"]]
        state = await visitors.get_visitor(store, shop.reader, RSID, visitor)
        expected, _ = await visitors.page_hits(store, shop.reader, state, None, 2)
        assert len(ids) == 2 and [h.seq for h in expected] == [5, 4]


async def test_batched_pages_equal_one_page_read_per_visitor(any_store):
    company = await make_company(any_store)
    await report_suites.create(any_store, company.admin, RSID, "Shop")
    await collect(any_store, company, 4, 7)
    states = [await visitors.get_visitor(any_store, company.reader, RSID, f"v-{v:03d}") for v in range(4)]
    pages = [
        visitors.HitPage(RSID, s.visitor_id, s.seq, after, first)
        for s in states
        for after, first in [(None, 3), (5, 3), (3, 10), (1, 5), (None, 0), (None, 100)]
    ]

    batched = await visitors.page_hits_of_many(any_store, company.reader, pages)

    one_by_one = [
        await visitors.page_hits(any_store, company.reader, s, p.after, p.first)
        for p in pages
        for s in states
        if s.visitor_id == p.visitor_id
    ]
    assert batched == one_by_one


async def test_another_companys_reader_gets_empty_pages(any_store):
    company, other = await make_company(any_store), await make_company(any_store, "Globex")
    await report_suites.create(any_store, company.admin, RSID, "Shop")
    await collect(any_store, company, 2, 3)
    state = await visitors.get_visitor(any_store, company.reader, RSID, "v-000")

    assert await visitors.page_hits_of_many(any_store, other.reader, [visitors.HitPage(RSID, "v-000", state.seq, None, 10)]) == [
        ([], False)
    ]
