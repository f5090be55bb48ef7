"""graph/extensions/max_list_length.py: variables holding a list far past any input's limit are refused unread."""

from graph.extensions.max_list_length import MAX_LIST_ITEMS
from resolvers import report_suites
from tests.queries import COLLECT

CREATE = "mutation($input: CreateDataSourceInput!) { createDataSource(input: $input) { userErrors { field code message } } }"


async def test_a_list_past_the_limit_is_refused_with_its_path(execute, company):
    hits = [{"visitorId": "v", "timestamp": "2026-11-30T10:00:00Z"}] * (MAX_LIST_ITEMS + 1)

    result = await execute(COLLECT, company.uploader, input={"rsid": "any", "hits": hits})

    assert result.data is None
    (error,) = result.errors
    assert (error.extensions["code"], error.extensions["field"]) == ("TOO_MANY", "input.hits")


async def test_a_nested_list_is_checked_too(execute, company):
    evars = [{"number": 1, "value": "x"}] * (MAX_LIST_ITEMS + 1)
    hits = [{"visitorId": "v", "timestamp": "2026-11-30T10:00:00Z", "evars": evars}]

    result = await execute(COLLECT, company.uploader, input={"rsid": "any", "hits": hits})

    assert result.errors[0].extensions["field"] == "input.hits.0.evars"


async def test_a_list_within_the_limit_reaches_the_use_case_and_its_own_limit(execute, company, store):
    await report_suites.create(store, company.admin, "shop", "Shop")
    dimensions = [{"header": "Evar 1"}] * 5000

    result = await execute(CREATE, company.admin, input={
        "rsid": "shop", "name": "Too wide", "category": "GENERIC", "type": "GENERIC_SUMMARY",
        "dimensions": dimensions, "metrics": [{"header": "Event 1"}],
    })  # fmt: skip

    errors = result.data["createDataSource"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [("dimensions", "TOO_MANY")]
