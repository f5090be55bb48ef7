"""Refuse an operation without a valid API key before it is validated or its input read.

Resolvers check the caller too; this stops a keyless request early, so neither a large
body nor a document that is costly to validate costs the server anything. Introspection
alone needs no key (GraphiQL's schema view); it still meets the other guards.

The refusal says what was wrong (no Authorization header, no Bearer scheme, or a key that
is not valid: unknown and revoked alike) in its message and in `extensions.reason`.
"""

from graphql import DocumentNode, FieldNode, GraphQLError, get_operation_ast
from strawberry.types import ExecutionContext

from graph.extensions.guard import Guard, refused


class RequireApiKey(Guard):
    def refusal(self, context: ExecutionContext, document: DocumentNode) -> GraphQLError | None:
        if context.context.caller is not None or _introspection_only(document, context.operation_name):
            return None
        why = context.context.refusal
        return refused(why.message, "UNAUTHENTICATED", field=None, reason=why.reason)


def _introspection_only(document, operation_name: str | None) -> bool:
    operation = get_operation_ast(document, operation_name)
    return operation is not None and all(
        isinstance(s, FieldNode) and s.name.value.startswith("__") for s in operation.selection_set.selections
    )
