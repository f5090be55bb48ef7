"""Give the errors graphql-core finds before execution a stable code, like every other error.

GRAPHQL_PARSE_FAILED: the document is not GraphQL (the message says where);
GRAPHQL_VALIDATION_FAILED: it asks for something the schema does not have, or breaks a rule;
BAD_USER_INPUT: a variable's value does not fit its declared type.
An error that already has a code (a guard's, say) keeps it.
"""

from collections.abc import Iterable, Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension


class CodeRequestErrors(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        yield
        _code(self.execution_context.pre_execution_errors, "GRAPHQL_PARSE_FAILED")

    def on_validate(self) -> Iterator[None]:
        yield
        _code(self.execution_context.pre_execution_errors, "GRAPHQL_VALIDATION_FAILED")

    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        # No data and errors at no path: the variables were refused before anything ran.
        if result is not None and getattr(result, "data", None) is None:
            _code([e for e in result.errors or () if e.path is None], "BAD_USER_INPUT")


def _code(errors: Iterable[GraphQLError] | None, code: str) -> None:
    for error in errors or ():
        if not (error.extensions or {}).get("code"):
            error.extensions = {**(error.extensions or {}), "code": code}
