"""graph/extensions/error_codes.py: the errors found before execution carry a stable code, as every other error does."""

import pytest


@pytest.mark.parametrize(
    ("document", "variables", "code"),
    [
        ("query { reportSuites { ", {}, "GRAPHQL_PARSE_FAILED"),
        ("query { viewer { " + "role " * 5001 + "} }", {}, "GRAPHQL_PARSE_FAILED"),  # the token limit
        ("{" + "viewer {" * 400 + "role" + "}" * 400 + "}", {}, "GRAPHQL_PARSE_FAILED"),  # nested past the parser
        ("query { reportSuites { colour } }", {}, "GRAPHQL_VALIDATION_FAILED"),
        ("query($n: Int!) { reportSuites(first: $n) { edges { cursor } } }", {"n": "ten"}, "BAD_USER_INPUT"),
    ],
    ids=["syntax", "tokens", "nesting", "unknown field", "variable of the wrong type"],
)
async def test_a_request_error_has_a_code_and_says_what_is_wrong(execute, company, document, variables, code):
    result = await execute(document, company.reader, **variables)

    assert result.data is None
    assert [e.extensions["code"] for e in result.errors] == [code]
    assert result.errors[0].message != "Unexpected error."


async def test_a_guards_own_code_is_kept(execute):
    result = await execute("{ viewer { colour } }", None)

    assert [e.extensions["code"] for e in result.errors] == ["UNAUTHENTICATED"]
