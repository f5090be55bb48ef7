"""Refuse a query nested deeper than any real one, before validation.

Strawberry's QueryDepthLimiter walks a fragment again at every spread, which takes time
doubling with each fragment that spreads the next one twice; this measures each fragment
once. As there, a field is as deep as the fields nested in it, a fragment spread adds no
level, and introspection fields are not counted (graphql-core's validation bounds how
deep introspection may nest).
"""

from graphql import DocumentNode, FieldNode, GraphQLError
from strawberry.types import ExecutionContext

from graph.extensions.guard import Guard, Measure, refused

MAX_DEPTH = 12


class QueryDepth(Measure[int]):
    empty = 0

    def field(self, node: FieldNode, parent) -> int:
        if node.selection_set is None or node.name.value.startswith("__"):
            return 0
        return 1 + self.selection_set(node.selection_set, None)

    def combine(self, values: list[int]) -> int:
        return max(values, default=0)

    def deepest(self) -> int:
        return max(self.operations(), default=0)


class MaxQueryDepth(Guard):
    def refusal(self, context: ExecutionContext, document: DocumentNode) -> GraphQLError | None:
        depth = QueryDepth(document).deepest()
        if depth <= MAX_DEPTH:
            return None
        return refused(f"This query's depth is {depth} nested fields; the limit is {MAX_DEPTH}.", "QUERY_TOO_DEEP")
