"""graph/extensions/require_api_key.py: a request without a valid key is refused before
validation and before its input is read; introspection is open."""

from strawberry.schema import schema as strawberry_schema

from graph.context import Context
from graph.schema import schema
from resolvers import collection
from tests.queries import COLLECT


async def test_a_keyless_request_is_refused_before_its_input_is_converted(execute, monkeypatch):
    async def must_not_run(*args, **kwargs):
        raise AssertionError("the use-case ran for a keyless request")

    monkeypatch.setattr(collection, "collect_hits", must_not_run)
    hits = [{"visitorId": "v", "timestamp": "2026-11-30T10:00:00Z"}] * 5000

    result = await execute(COLLECT, None, input={"rsid": "any", "hits": hits})

    assert result.data is None
    assert [e.extensions["code"] for e in result.errors] == ["UNAUTHENTICATED"]


async def test_introspection_needs_no_key(execute):
    result = await execute("{ __schema { queryType { name } } __typename }", None)

    assert result.errors is None
    assert result.data == {"__schema": {"queryType": {"name": "Query"}}, "__typename": "Query"}


async def test_introspection_beside_a_real_field_still_needs_a_key(execute):
    result = await execute("{ __typename viewer { role } }", None)

    assert result.data is None
    assert result.errors[0].extensions["code"] == "UNAUTHENTICATED"


async def test_a_named_operation_is_judged_on_its_own(execute):
    document = "query Schema { __schema { queryType { name } } } query Me { viewer { role } }"

    open_result = await schema.execute(document, operation_name="Schema", context_value=Context(None, None))
    keyed_result = await schema.execute(document, operation_name="Me", context_value=Context(None, None))

    assert open_result.errors is None
    assert keyed_result.errors[0].extensions["code"] == "UNAUTHENTICATED"


async def test_a_keyless_request_is_refused_before_validation(execute, monkeypatch):
    def must_not_validate(*args):
        raise AssertionError("a keyless request was validated")

    monkeypatch.setattr(strawberry_schema, "validate_document", must_not_validate)

    result = await execute("{ " + "viewer { role } " * 1240 + "}", None)  # 0.8 s to validate, once

    assert [e.extensions["code"] for e in result.errors] == ["UNAUTHENTICATED"]
