"""graph/extensions/max_query_cost.py: a query that could fetch more than the cost limit is
refused before it touches the store."""

import pytest

from graph.extensions.max_query_cost import MAX_COST
from resolvers import report_suites

NESTED = """
query($outer: Int!, $inner: Int!) {
  reportSuite(rsid: "shop") {
    visitors(first: $outer) { edges { node { hits(first: $inner) { edges { node { id } } } } } }
  }
}"""

TWO_ALIASES = """
fragment Deep on ReportSuite { visitors(first: 60) { edges { node { hits(first: 100) { edges { node { id } } } } } } }
{ reportSuite(rsid: "shop") { a: visitors(first: 1) { edges { cursor } } ...Deep } other: reportSuite(rsid: "shop") { ...Deep } }
"""


@pytest.fixture(autouse=True)
async def shop(store, company):
    await report_suites.create(store, company.admin, "shop", "Shop")


async def test_nested_pages_past_the_limit_are_refused_before_any_store_call(execute, company, store):
    before = store.round_trips

    result = await execute(NESTED, company.reader, outer=100, inner=100)

    assert result.data is None
    (error,) = result.errors
    assert error.extensions["code"] == "QUERY_TOO_COSTLY"
    assert "10,201" in error.message and f"{MAX_COST:,}" in error.message  # 1 + 100 + 100 x (1 + 100)
    assert store.round_trips == before


async def test_the_same_query_with_smaller_pages_runs(execute, company):
    result = await execute(NESTED, company.reader, outer=50, inner=100)

    assert result.errors is None
    assert result.data == {"reportSuite": {"visitors": {"edges": []}}}


async def test_aliases_and_fragments_add_up(execute, company):
    result = await execute(TWO_ALIASES, company.reader)

    assert result.errors[0].extensions["code"] == "QUERY_TOO_COSTLY"


async def test_default_page_sizes_count_too(execute, company):
    query = '{ reportSuite(rsid: "shop") { visitors { edges { node { hits { edges { node { id } } } transactions { edges { node { id } } } } } } } }'

    result = await execute(query, company.reader)  # 1 + 20 + 20 x 21 x 2 = 861: well within

    assert result.errors is None


async def test_a_fragment_costs_what_it_fetches_times_the_pages_around_each_spread(execute, company):
    query = """
    query($outer: Int!) { reportSuite(rsid: "shop") { visitors(first: $outer) { edges { node { ...Hits } } } } }
    fragment Hits on Visitor { hits(first: 100) { edges { node { id } } } }"""

    allowed = await execute(query, company.reader, outer=10)  # 1 + 10 + 10 x (1 + 100)
    refused = await execute(query, company.reader, outer=100)

    assert allowed.errors is None
    assert refused.errors[0].extensions["code"] == "QUERY_TOO_COSTLY"
    assert "10,201" in refused.errors[0].message


async def test_a_reports_rows_count_by_the_first_of_its_input(execute, company, store):
    many = '{ reportSuites(first: 100) { edges { node { report(input: {dimension: "evar1", metrics: ["event1"], first: 100}) { userErrors { code } } } } } }'
    by_variable = (
        """query($input: ReportInput!) { reportSuites(first: 100) { edges { node { report(input: $input) { userErrors { code } } } } } }"""
    )
    before = store.round_trips

    refused = await execute(many, company.reader)  # 1 + 100 + 100 x (1 + 100)
    also_refused = await execute(by_variable, company.reader, input={"dimension": "evar1", "metrics": ["event1"], "first": 100})
    assert store.round_trips == before
    defaults = await execute(by_variable, company.reader, input={"dimension": "evar1", "metrics": ["event1"]})  # 1 + 100 + 100 x 21

    assert refused.errors[0].extensions["code"] == also_refused.errors[0].extensions["code"] == "QUERY_TOO_COSTLY"
    assert "10,201" in refused.errors[0].message
    assert defaults.errors is None
