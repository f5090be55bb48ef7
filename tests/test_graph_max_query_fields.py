"""graph/extensions/max_query_fields.py: a document selecting more fields than the limit is refused before validation, whose
cost grows with the square of the fields it compares."""

import pytest
from strawberry.schema import schema as strawberry_schema

from graph.extensions.max_query_fields import MAX_FIELDS


@pytest.fixture
def validations(monkeypatch) -> list:
    """Each document graphql-core's validation was asked to check."""
    checked = []
    validate = strawberry_schema.validate_document

    def counting(schema, document, rules):
        checked.append(document)
        return validate(schema, document, rules)

    monkeypatch.setattr(strawberry_schema, "validate_document", counting)
    return checked


async def test_many_repeated_fields_are_refused_before_validation(execute, company, validations):
    result = await execute("{ " + "viewer { role } " * 1240 + "}", company.reader)

    assert result.data is None
    (error,) = result.errors
    assert error.extensions["code"] == "QUERY_TOO_LARGE"
    assert "2,480 fields" in error.message and f"limit is {MAX_FIELDS}" in error.message
    assert validations == []


async def test_fields_up_to_the_limit_are_validated_and_run(execute, company, validations):
    result = await execute("{ " + "viewer { role } " * (MAX_FIELDS // 2) + "}", company.reader)

    assert result.errors is None
    assert len(validations) == 1


async def test_a_fragments_fields_count_at_each_spread(execute, company):
    fragment = "fragment Me on Query { " + "viewer { role } " * (MAX_FIELDS // 4) + "}"

    result = await execute("{ ...Me ...Again } fragment Again on Query { ...Me ...Me } " + fragment, company.reader)

    assert result.errors[0].extensions["code"] == "QUERY_TOO_LARGE"
