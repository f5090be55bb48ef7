"""Refuse an operation without a valid API key before any of its input is converted.

Resolvers check the caller too; this stops a keyless request early, so a large body
costs the server nothing. Introspection alone needs no key (GraphiQL's schema view).
"""

from graphql import ExecutionResult, FieldNode, GraphQLError, get_operation_ast
from strawberry.extensions import SchemaExtension

from resolvers.api_keys import UNAUTHENTICATED_MESSAGE


class RequireApiKey(SchemaExtension):
    def on_execute(self):
        context = self.execution_context
        if context.context.caller is None and not _introspection_only(context.graphql_document, context.operation_name):
            error = GraphQLError(UNAUTHENTICATED_MESSAGE, extensions={"code": "UNAUTHENTICATED", "field": None})
            context.result = ExecutionResult(data=None, errors=[error])
        yield


def _introspection_only(document, operation_name: str | None) -> bool:
    operation = get_operation_ast(document, operation_name)
    return operation is not None and all(
        isinstance(s, FieldNode) and s.name.value.startswith("__") for s in operation.selection_set.selections
    )
