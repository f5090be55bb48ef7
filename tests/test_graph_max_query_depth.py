"""graph/extensions/max_query_depth.py: depth is counted in nested fields, fragments included, before validation; introspection
is not counted (graphql-core bounds it), so GraphiQL's schema query runs without a key."""

from graphql import get_introspection_query, parse

from graph.extensions.max_query_depth import MAX_DEPTH, QueryDepth


def _nested(depth: int) -> str:
    return "viewer { " * depth + "role" + " }" * depth


def test_a_fragment_adds_no_level_but_its_fields_do():
    document = parse(f"{{ viewer {{ ...Deeper }} }} fragment Deeper on Viewer {{ {_nested(3)} }}")

    assert QueryDepth(document).deepest() == 4


async def test_a_query_deeper_than_the_limit_through_fragments_is_refused(execute, company):
    half = MAX_DEPTH // 2 + 1
    document = f"{{ ...Top }} fragment Top on Query {{ {'viewer { ' * half} ...Bottom {' }' * half} }} fragment Bottom on Viewer {{ {_nested(half)} }}"

    result = await execute(document, company.reader)

    assert result.data is None
    (error,) = result.errors
    assert error.extensions["code"] == "QUERY_TOO_DEEP"
    assert f"depth is {2 * half}" in error.message and f"limit is {MAX_DEPTH}" in error.message


async def test_graphiqls_schema_query_needs_no_key_and_passes_every_guard(execute):
    query = get_introspection_query(descriptions=True, specified_by_url=True, directive_is_repeatable=True, input_value_deprecation=True)

    result = await execute(query, None)

    assert result.errors is None
    assert result.data["__schema"]["queryType"]["name"] == "Query"
