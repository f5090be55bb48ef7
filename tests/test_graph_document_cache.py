"""graph/extensions/document_cache.py: a document sent again is parsed and validated once,
and answered exactly as the first time: the cache never lets through what a request's own
guards or rules refuse."""

from graph.context import Context
from graph.extensions import document_cache
from graph.extensions.max_query_depth import MAX_DEPTH
from graph.schema import schema

SCHEMA_QUERY = "{ __schema { queryType { name } } }"


async def test_a_document_sent_again_is_parsed_and_validated_once(execute, company):
    document = "{ viewer { role } cached: viewer { role } }"
    parsed, validated = document_cache._parse.cache_info().hits, document_cache._validate.cache_info().hits

    answers = [await execute(document, company.reader) for _ in range(3)]

    assert [a.data for a in answers] == [{"viewer": {"role": "READER"}, "cached": {"role": "READER"}}] * 3
    assert document_cache._parse.cache_info().hits - parsed == 2
    assert document_cache._validate.cache_info().hits - validated == 2


async def test_an_invalid_document_is_refused_each_time_with_the_same_error(execute, company):
    answers = [await execute("{ viewer { colour } }", company.reader) for _ in range(2)]

    assert [[(e.message, e.extensions["code"]) for e in a.errors] for a in answers] == [
        [("Cannot query field 'colour' on type 'Viewer'.", "GRAPHQL_VALIDATION_FAILED")]
    ] * 2


async def test_a_broken_document_is_refused_each_time_as_unparsable(execute, company):
    answers = [await execute("{ viewer { role ", company.reader) for _ in range(2)]

    assert [[e.extensions["code"] for e in a.errors] for a in answers] == [["GRAPHQL_PARSE_FAILED"]] * 2


async def test_a_guards_refusal_stands_each_time_the_document_comes(execute, company):
    too_deep = "{ " + "viewer { " * (MAX_DEPTH + 1) + "role" + " }" * (MAX_DEPTH + 1) + " }"

    answers = [await execute(too_deep, company.reader) for _ in range(2)]

    assert [(a.data, [e.extensions["code"] for e in a.errors]) for a in answers] == [(None, ["QUERY_TOO_DEEP"])] * 2


async def test_introspection_turned_off_is_refused_after_the_same_document_was_answered(store, company):
    answered = await schema.execute(SCHEMA_QUERY, context_value=Context(store, company.reader))
    assert answered.data == {"__schema": {"queryType": {"name": "Query"}}}

    refused = await schema.execute(SCHEMA_QUERY, context_value=Context(store, company.reader, introspection=False))

    assert refused.data is None
    assert [e.extensions["code"] for e in refused.errors] == ["INTROSPECTION_DISABLED"]


async def test_a_long_document_is_answered_but_not_kept(execute, company):
    long = "{ viewer { role } " + "# padding\n" * (document_cache.MAX_CACHED_LENGTH // 10) + "}"
    document_cache._parse.cache_clear()
    document_cache._validate.cache_clear()

    answer = await execute(long, company.reader)

    assert answer.data == {"viewer": {"role": "READER"}}
    assert (document_cache._parse.cache_info().currsize, document_cache._validate.cache_info().currsize) == (0, 0)
