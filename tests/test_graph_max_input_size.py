"""graph/extensions/max_input_size.py: input larger than its fields take is refused with a code and its path before it is
converted: lists over their field's limit, absurd strings, and too many items in all."""

import pytest
from graphql import get_nullable_type, is_input_object_type, is_list_type
from strawberry.schema import schema as strawberry_schema

from graph.extensions.max_input_size import LIST_LIMITS, MAX_LIST_ITEMS, MAX_STRING_LENGTH
from graph.schema import schema
from resolvers import report_suites
from resolvers.collection import MAX_HITS_PER_CALL

COLLECT = "mutation($input: CollectHitsInput!) { collectHits(input: $input) { collectedCount outcomes { errors { field code } } } }"
CREATE = "mutation($input: CreateDataSourceInput!) { createDataSource(input: $input) { userErrors { field code message } } }"


def hit(**fields) -> dict:
    return {"visitorId": "v-1", "timestamp": "2026-11-30T10:00:00Z"} | fields


def refusal(result) -> tuple[str, str]:
    assert result.data is None
    (error,) = result.errors
    return error.extensions["code"], error.extensions["field"]


@pytest.fixture(autouse=True)
async def shop(store, company):
    await report_suites.create(store, company.admin, "shop", "Shop")


def test_every_list_the_schema_takes_as_input_has_a_limit():
    lists = {
        (kind.name, name)
        for kind in schema._schema.type_map.values()
        if is_input_object_type(kind)
        for name, field in kind.fields.items()
        if is_list_type(get_nullable_type(field.type))
    }

    assert set(LIST_LIMITS) == lists


async def test_too_many_hits_are_refused_before_validation_and_conversion(execute, company, monkeypatch):
    def must_not_validate(*args):
        raise AssertionError("the request was validated")

    monkeypatch.setattr(strawberry_schema, "validate_document", must_not_validate)

    result = await execute(COLLECT, company.uploader, input={"rsid": "shop", "hits": [hit()] * 9999})

    assert refusal(result) == ("TOO_MANY", "input.hits")
    assert "9,999" in result.errors[0].message and f"at most {MAX_HITS_PER_CALL:,}" in result.errors[0].message


@pytest.mark.parametrize(
    ("field", "items", "limit"),
    [("evars", {"number": 1, "value": "x"}, 250), ("events", {"number": 1}, 1008)],
)
async def test_a_hits_lists_are_held_to_their_own_limits(execute, company, field, items, limit):
    hits = [hit(), hit(), hit(**{field: [items] * (limit + 1)})]

    result = await execute(COLLECT, company.uploader, input={"rsid": "shop", "hits": hits})

    assert refusal(result) == ("TOO_MANY", f"input.hits.2.{field}")
    assert f"at most {limit:,}" in result.errors[0].message


async def test_lists_within_their_limits_reach_the_use_case_and_its_own_rules(execute, company):
    dimensions = [{"header": f"Evar {n}"} for n in range(1, 251)] + [{"header": "Zip"}] * 50

    result = await execute(CREATE, company.admin, input={
        "rsid": "shop", "name": "Wide", "category": "GENERIC", "type": "GENERIC_SUMMARY",
        "dimensions": dimensions, "metrics": [{"header": "Event 1"}],
    })  # fmt: skip

    assert result.errors is None
    assert [e["code"] for e in result.data["createDataSource"]["userErrors"]] == ["TOO_MANY"]  # 301 columns in all


async def test_a_list_written_in_the_document_is_held_to_the_same_limit(execute, company):
    evars = ", ".join(['{number: 1, value: "x"}'] * 251)
    document = f'mutation {{ collectHits(input: {{rsid: "shop", hits: [{{visitorId: "v", timestamp: "t", evars: [{evars}]}}]}}) {{ collectedCount }} }}'

    result = await execute(document, company.uploader)

    assert refusal(result) == ("TOO_MANY", "input.hits.0.evars")
    assert result.errors[0].locations  # where in the document


async def test_a_list_variable_on_its_own_is_held_to_the_longest_a_field_takes(execute, company):
    document = 'mutation($hits: [HitInput!]!) { collectHits(input: {rsid: "shop", hits: $hits}) { collectedCount } }'

    result = await execute(document, company.uploader, hits=[hit()] * (MAX_HITS_PER_CALL + 1))

    assert refusal(result) == ("TOO_MANY", "hits")


async def test_an_absurd_string_is_refused_unread_in_a_variable_or_a_literal(execute, company):
    long = "v" * (MAX_STRING_LENGTH + 1)

    in_variable = await execute(COLLECT, company.uploader, input={"rsid": "shop", "hits": [hit(), hit(visitorId=long)]})
    in_literal = await execute(f'{{ reportSuite(rsid: "{long}") {{ name }} }}', company.reader)

    assert refusal(in_variable) == ("TOO_LONG", "input.hits.1.visitorId")
    assert refusal(in_literal) == ("TOO_LONG", "rsid")
    assert f"{MAX_STRING_LENGTH + 1:,} characters" in in_literal.errors[0].message


async def test_a_string_over_its_fields_own_limit_is_left_to_the_use_case_to_name(execute, company):
    result = await execute(COLLECT, company.uploader, input={"rsid": "shop", "hits": [hit(visitorId="v" * 101)]})

    assert result.errors is None
    assert result.data["collectHits"]["outcomes"][0]["errors"] == [{"field": "hits.0.visitorId", "code": "TOO_LONG"}]


async def test_all_lists_together_are_held_to_a_total(execute, company):
    per_hit = MAX_LIST_ITEMS // MAX_HITS_PER_CALL  # each hit within its own limits, the call over the total
    hits = [hit(evars=[{"number": 1, "value": "x"}] * per_hit)] * MAX_HITS_PER_CALL

    result = await execute(COLLECT, company.uploader, input={"rsid": "shop", "hits": hits})

    code, field = refusal(result)
    assert code == "TOO_MANY" and field.startswith("input.hits.")
    assert f"{MAX_LIST_ITEMS:,} items in all" in result.errors[0].message


async def test_a_report_suites_evar_settings_are_held_to_the_number_of_evars(execute, company):
    document = "mutation($input: UpdateReportSuiteInput!) { updateReportSuite(input: $input) { userErrors { code } } }"

    result = await execute(document, company.admin, input={"rsid": "shop", "evars": [{"number": 1}] * 251})

    assert refusal(result) == ("TOO_MANY", "input.evars")


async def test_an_absurd_string_in_a_row_is_refused_unread_with_its_row_and_column(execute, company):
    validate = "mutation($input: ValidateDataSourceRowsInput!) { validateDataSourceRows(input: $input) { rowCount } }"
    rows = [["01/02/2026", "a"], ["01/02/2026", "v" * (MAX_STRING_LENGTH + 1)]]

    result = await execute(validate, company.uploader, input={"dataSourceId": "any", "columns": ["Date", "Evar 1"], "rows": rows})

    assert refusal(result) == ("TOO_LONG", "input.rows.1.1")
